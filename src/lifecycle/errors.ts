import { UserError } from "../errors.ts";

/** A problem found before `npm run up`/`down`/`preview` changed anything, or the step that failed: exit 1. */
export class LifecycleError extends UserError {}

/** The user answered no at a confirmation: nothing more is changed, exit 3. */
export class DeclinedError extends UserError {
    constructor(message: string) {
        super(message, 3);
    }
}
