import { ApplyFailedError } from "./errors.ts";
import { specIgnore, type IgnoreFlags, type PublishFlags } from "./flags.ts";
import type { Lease } from "./lease.ts";
import { awaitApply, openPublication, type AtomicPublish } from "./publish.ts";
import { rollback } from "./rollback.ts";
import type { ObjectStore } from "./store/types.ts";

export interface ApplyOrRollBackOptions {
    /** The write's name in messages: `push`, `promotion`. */
    what: string;
    /** The prefix in messages: `the prefix`, or a URL. */
    where: string;
    flags: PublishFlags & IgnoreFlags & { rollbackOnFailure?: boolean; concurrency: number };
    /** The write's lease, still held: the rollback writes under it, so no other writer gets in between. */
    lease: Lease;
    /** What the write replaced (releaseBefore in guardedWrite.ts); undefined where Flux saw nothing before. */
    before: string | undefined;
    log: (line: string) => void;
    warn: (line: string) => void;
}

/**
 * After a write's resume (push, promote): the wait for the cluster to apply it and, when Flux reports a failure and
 * --rollback-on-failure asks for it, the rollback to the release the write replaced, atomically, and the wait for that.
 */
export async function applyOrRollBack(store: ObjectStore, publication: AtomicPublish | undefined, options: ApplyOrRollBackOptions): Promise<void> {
    const { what, where, flags, lease, before, log, warn } = options;
    if (!publication) return;
    try {
        await awaitApply(publication, store, flags, log);
    } catch (error) {
        if (!(error instanceof ApplyFailedError) || !flags.rollbackOnFailure) throw error;
        if (!before) throw new ApplyFailedError(`${error.message}\nnot rolled back: Flux saw nothing under ${where} before this ${what}`);
        const previous = /^\d+$/.test(before) ? `release ${before}` : before;
        log(`the cluster failed to apply the ${what}:\n${error.message}\nrolling back to ${where}'s previous state, ${previous}`);
        const again = await openPublication(flags, store, "rollback", log, warn);
        await rollback(store, before, {
            dryRun: false,
            allowEmpty: false,
            allowIncomplete: false,
            lease,
            concurrency: flags.concurrency,
            specIgnore: specIgnore(flags),
            publication: again,
            afterResume: async () => {
                if (again) await awaitApply(again, store, flags, log);
            },
            log,
        });
        throw new ApplyFailedError(`${error.message}\nrolled back to ${previous}${again && flags.wait ? ", which the cluster applied" : ""}`);
    }
}
