/** A question on the terminal (prompt on stderr, answer from stdin), when both are a terminal; undefined otherwise. */
export function terminalQuestion(): ((question: string) => Promise<string>) | undefined {
    if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
    return async (question) => {
        const { createInterface } = await import("node:readline/promises");
        const terminal = createInterface({ input: process.stdin, output: process.stderr });
        try {
            return await terminal.question(question);
        } finally {
            terminal.close();
        }
    };
}
