/**
 * Every exit code bucketops uses, in one place: the errors (errors.ts), the commands that choose one without
 * failing (status, diff) and the signal handlers refer to these names. docs/bucketops.md "Exit codes" lists them.
 */
export const EXIT = {
    /** Done; `status`: the cluster has caught up; `diff`: no difference. */
    ok: 0,
    /** Failed (one message on stderr); `diff`: the two sides differ. */
    failed: 1,
    /** Bad input, refused before anything changed (arguments, flag values, a bad local file); `diff`: any error. */
    usage: 2,
    /** `status`: the cluster has not caught up with the bucket yet. */
    behind: 3,
    /** Another writer: its lease is held (or stale), or a concurrent change was detected; nothing was deleted. */
    concurrent: 4,
    /** The cluster failed to apply the push or rollback (Flux reported the failure). */
    applyFailed: 5,
    /** The cluster did not report the apply within --wait-timeout. */
    applyTimeout: 6,
    /** Interrupted by Ctrl-C (SIGINT): 128 + 2. */
    interrupted: 130,
    /** Terminated (SIGTERM: CI cancellation, `timeout`): 128 + 15. */
    terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
