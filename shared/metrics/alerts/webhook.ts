import type { AlertChange } from "./state.js";

/** Longest wait for a webhook to answer. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * A Slack incoming-webhook message (`text` for notifications and other receivers,
 * `blocks` for Slack's layout); any receiver that takes Slack's JSON works.
 */
export function alertMessage(change: AlertChange, gateway: string): { text: string; blocks: unknown[] } {
  const { alert } = change;
  const { condition } = alert;
  const owner = alert.scope === "operator" ? "" : ` (tenant ${alert.scope})`;
  const firing = alert.status === "firing";
  const headline = firing
    ? `:rotating_light: [FIRING] ${condition.rule} · ${condition.subject}${owner}: ${condition.summary}`
    : `:white_check_mark: [RESOLVED] ${condition.rule} · ${condition.subject}${owner}: back within limits (firing since ${new Date(alert.firedAt ?? alert.since).toISOString()})`;
  return {
    text: headline,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: headline } },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `edgegate ${gateway} · alert \`${change.id}\` · ${new Date(alert.since).toISOString()}` }],
      },
    ],
  };
}

/** Posts a change; true when the receiver took it (2xx). */
export async function deliver(url: string, change: AlertChange, gateway: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-edgegate-alert": change.id, "x-edgegate-alert-status": change.alert.status },
      body: JSON.stringify(alertMessage(change, gateway)),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      // A redirect is not followed (it could lead anywhere): the receiver did not take the alert.
      redirect: "manual",
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
