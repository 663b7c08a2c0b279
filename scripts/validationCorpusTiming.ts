export async function timePushes(_dir: string): Promise<Record<string, number>> { return {}; }
