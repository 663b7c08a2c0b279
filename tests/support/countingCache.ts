/**
 * A cache in memory for validateTree's caches (parses, kubectl builds, postBuild substitutions, schema checks): its
 * entries, and what validateTree asked of it since the last reset: the keys it answered, in order and with repeats,
 * and the keys it was given.
 */
export class CountingCache<T> {
    readonly entries = new Map<string, T>();
    answered: string[] = [];
    sets: string[] = [];

    get(key: string): T | undefined {
        const found = this.entries.get(key);
        if (found !== undefined) this.answered.push(key);
        return found;
    }

    set(key: string, value: T): void {
        this.sets.push(key);
        this.entries.set(key, value);
    }

    /** How many times it answered since the last reset. */
    get hits(): number {
        return this.answered.length;
    }

    /** How many different keys it answered for since the last reset. */
    get keysAnswered(): number {
        return new Set(this.answered).size;
    }

    reset(): void {
        this.answered = [];
        this.sets = [];
    }
}
