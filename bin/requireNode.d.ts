/** package.json's engines.node. */
export const SUPPORTED: string;
/** Whether `version` is in `range` (default SUPPORTED). */
export function satisfies(version: string, range?: string): boolean;
/** The message for an unsupported Node, or undefined when `version` is supported. */
export function unsupported(version: string, program: string): string | undefined;
