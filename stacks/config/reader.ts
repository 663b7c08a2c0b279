import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./errors.ts";
import { type ConfigKey, type Declaration, PROJECT, declarations } from "./declarations.ts";

/**
 * Reads this project's config values (keys without the `flux-bucket:` namespace), applying the declared defaults
 * and allowed values. Problems are collected so that one error names every bad key; call `done()` last.
 */
export class ConfigReader {
    private readonly problems: string[] = [];

    private readonly values: Readonly<Record<string, string>>;

    private readonly options: ReaderOptions;

    constructor(values: Readonly<Record<string, string>>, options: ReaderOptions = {}) {
        this.values = values;
        this.options = options;
        const layer = values.layer;
        for (const key of Object.keys(values)) {
            const declaration = (declarations as Record<string, Declaration>)[key];
            if (!declaration) {
                this.fail(key, "is not a setting of this project (see the config reference in README.md)");
            } else if ((layer === "infra" || layer === "flux") && declaration.layer !== "both" && declaration.layer !== layer) {
                this.fail(key, `is a setting of the ${declaration.layer} layer, and this stack's flux-bucket:layer is ${layer}, which never reads it; move it to the ${declaration.layer} stack's file`);
            }
        }
    }

    /** The project's keys from a full config map such as `pulumi.runtime.allConfig()`; other namespaces' are kept for `overriddenBy`. */
    static fromAllConfig(all: Readonly<Record<string, string>>, file?: string): ConfigReader {
        const prefix = `${PROJECT}:`;
        const own = Object.entries(all)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]);
        const others = Object.fromEntries(Object.entries(all).filter(([key]) => !key.startsWith(prefix)));
        return new ConfigReader(Object.fromEntries(own), { file, others });
    }

    fail(key: ConfigKey | string, message: string): void {
        this.problems.push(`${PROJECT}:${key} ${message}`);
    }

    /**
     * A key of another namespace (a provider's, such as `aws:region`) that this program does not read, because it
     * passes `ours` (the value of one of its keys) to its own provider instead. Set to anything else, it is refused,
     * saying which key wins: leaving it in place would suggest it has an effect.
     */
    overriddenBy(other: string, key: ConfigKey, ours: string | undefined, what: string): void {
        const theirs = this.options.others?.[other];
        if (theirs === undefined || theirs === ours) return;
        const secret = (declarations[key] as Declaration).secret === true;
        this.problems.push(
            `${other} is ${secret ? "set" : `"${theirs}"`}, but ${what} flux-bucket:${key}` +
                `${ours === undefined || secret ? "" : ` ("${ours}")`}, which wins; set flux-bucket:${key} instead and remove ${other}`,
        );
    }

    /** Whether the key was set in the stack's config (defaults do not count). */
    isSet(key: ConfigKey): boolean {
        return this.values[key] !== undefined && this.values[key] !== "";
    }

    private defaultOf(key: ConfigKey): Declaration["default"] {
        return (declarations[key] as Declaration).default;
    }

    /** The value, else the declared default; a value outside the declared `allowed` is recorded as a problem. */
    string<K extends ConfigKey>(key: K): Read<K> {
        const declaration: Declaration = declarations[key];
        const value = this.isSet(key) ? this.values[key] : (this.defaultOf(key) as string | undefined);
        if (value !== undefined && declaration.allowed && !declaration.allowed.includes(value)) {
            this.fail(key, `is "${value}"; allowed: ${declaration.allowed.join(", ")}`);
        }
        return value as Read<K>;
    }

    /** A string the caller needs; `when` says in which case, for the message. Missing: "" and a problem. */
    requireString(key: ConfigKey, when?: string): string {
        const value = this.string(key);
        if (value === undefined) this.fail(key, `is required${when ? ` ${when}` : ""}`);
        return value ?? "";
    }

    /** A string that must match `check`; `check` returns what is allowed when the value is wrong. */
    checked<K extends ConfigKey>(key: K, check: (value: string) => string | undefined): Read<K>;
    checked(key: ConfigKey, check: (value: string) => string | undefined, required: string): string;
    checked(key: ConfigKey, check: (value: string) => string | undefined, required?: string): string | undefined {
        const value = required === undefined ? this.string(key) : this.requireString(key, required);
        if (value === undefined || (required !== undefined && !this.isSet(key))) return value;
        const allowed = check(value);
        if (allowed !== undefined) {
            this.fail(key, `is "${value}"; ${allowed}`);
        }
        return value;
    }

    integer(key: ConfigKey, min: number, max: number): number {
        const raw = this.isSet(key) ? this.values[key] : String(this.defaultOf(key));
        const value = Number(raw);
        if (!/^-?\d+$/.test(raw) || value < min || value > max) {
            this.fail(key, `is "${raw}"; allowed: a whole number from ${min} to ${max}`);
        }
        return value;
    }

    boolean(key: ConfigKey): boolean {
        if (!this.isSet(key)) return this.defaultOf(key) as boolean;
        const raw = this.values[key];
        if (raw !== "true" && raw !== "false") this.fail(key, `is "${raw}"; allowed: true or false`);
        return raw === "true";
    }

    /** A list of strings, as `pulumi config set --path 'key[0]' value` stores it (JSON in the program's config). */
    stringList(key: ConfigKey): string[] | undefined {
        if (!this.isSet(key)) return undefined;
        const raw = this.values[key];
        let value: unknown;
        try {
            value = JSON.parse(raw);
        } catch {
            value = undefined;
        }
        if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
            this.fail(key, `is ${raw}; allowed: a list of strings`);
            return undefined;
        }
        return value;
    }

    /** A credential: always handed on as a Pulumi secret, whether or not the stack file encrypted it. */
    secret(key: ConfigKey, when?: string): pulumi.Output<string> {
        return pulumi.secret(this.requireString(key, when) ?? "");
    }

    done(): void {
        if (this.problems.length > 0) throw new ConfigError(this.problems, this.options.file);
    }
}

/** The keys declared with a default: reading one always gives a value. */
type Defaulted = { [K in ConfigKey]: (typeof declarations)[K] extends { default: unknown } ? K : never }[ConfigKey];
type Read<K extends ConfigKey> = K extends Defaulted ? string : string | undefined;

export interface ReaderOptions {
    /** The stack file the values come from, e.g. `Pulumi.dev.yaml`: every problem names it. */
    file?: string;
    /** The config keys of other namespaces (`aws:region`), for `overriddenBy`. */
    others?: Readonly<Record<string, string>>;
}
