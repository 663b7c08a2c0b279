import { UserError } from "../errors.ts";

/** Bad input to `npm run render`: printed as is, exit code 1, nothing written. */
export class RenderError extends UserError {}
