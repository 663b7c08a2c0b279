/** Bad input to `npm run render`: printed as is, exit code 1, nothing written. */
export class RenderError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RenderError";
    }
}
