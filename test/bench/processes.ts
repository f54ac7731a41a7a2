import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/** A process as /proc/<pid>/stat describes it (Linux only). */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The executable's name, at most 15 characters ("workerd", "node"). */
  comm: string;
  /** User + system CPU time so far, in milliseconds. */
  cpuMs: number;
  /** The same for its children that have exited and been waited for. */
  reapedChildrenCpuMs: number;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

function readStat(pid: number): ProcessInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null; // exited meanwhile
  }
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  // Fields after the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17), numbered from 1.
  const rest = text.slice(close + 2).split(" ");
  const field = (n: number): number => Number(rest[n - 3]);
  return {
    pid,
    ppid: field(4),
    comm: text.slice(open + 1, close),
    cpuMs: ((field(14) + field(15)) * 1000) / CLOCK_TICKS_PER_SECOND,
    reapedChildrenCpuMs: ((field(16) + field(17)) * 1000) / CLOCK_TICKS_PER_SECOND,
  };
}

/** Every live descendant of `root` (children, grandchildren...). */
export function descendants(root: number): ProcessInfo[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((info): info is ProcessInfo => info !== null);
  const found: ProcessInfo[] = [];
  let parents = new Set([root]);
  while (parents.size > 0) {
    const children = all.filter((info) => parents.has(info.ppid));
    found.push(...children);
    parents = new Set(children.map((child) => child.pid));
  }
  return found;
}

/** Resident memory of `pid` in MiB (NaN if it is gone). */
export function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib ? Number(kib) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A process whose CPU time a measurement is charged with. */
export interface ProcessRole {
  role: string;
  pid: number;
}

/**
 * Runs `work` and returns the CPU milliseconds (user + system, /proc/<pid>/stat)
 * each process spent meanwhile; a process that exited or was replaced reports NaN.
 */
export async function measureCpu<T>(processes: readonly ProcessRole[], work: () => Promise<T>): Promise<{ result: T; cpuMs: Record<string, number> }> {
  const before = processes.map(({ pid }) => readStat(pid)?.cpuMs ?? Number.NaN);
  const result = await work();
  const cpuMs = Object.fromEntries(
    processes.map(({ role, pid }, index) => [role, (readStat(pid)?.cpuMs ?? Number.NaN) - (before[index] ?? Number.NaN)]),
  );
  return { result, cpuMs };
}

/** CPU milliseconds used so far by this process and everything it started, live or exited. */
function benchTreeCpuMs(): number {
  return [readStat(process.pid), ...descendants(process.pid)].reduce(
    (sum, info) => sum + (info ? info.cpuMs + info.reapedChildrenCpuMs : 0),
    0,
  );
}

/** CPU milliseconds the whole machine has been busy (all cores), from /proc/stat. */
function machineBusyCpuMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Starts measuring how busy the machine is outside the bench (other people's
 * builds and tests); the returned function gives the average number of cores
 * they used since the start.
 */
export function startForeignCpuMeter(): () => number {
  const startedAt = performance.now();
  const machine = machineBusyCpuMs();
  const bench = benchTreeCpuMs();
  // 10 ms ticks and processes of the bench that exit meanwhile can make the difference slightly negative.
  return () => Math.max(0, machineBusyCpuMs() - machine - (benchTreeCpuMs() - bench)) / (performance.now() - startedAt);
}
