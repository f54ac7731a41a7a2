/**
 * Headers a regional gateway puts on its answers for the front Worker, which alone may
 * send a request on to another region.
 *
 * `x-edgegate-upstream-calls: 0` says that no upstream call of this request could have
 * been charged (none was made, or every one was refused with an error status before any
 * work), so replaying the request elsewhere cannot serve or bill it twice. Without it,
 * an answer is final.
 */
export const UPSTREAM_CALLS_HEADER = "x-edgegate-upstream-calls";

/** On a refusal for a tenant pinned elsewhere: the regions it is pinned to, comma-separated. */
export const PINNED_REGIONS_HEADER = "x-edgegate-pinned";
