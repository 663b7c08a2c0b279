// Flux's variable substitution (spec.postBuild.substitute), ported from fluxcd/pkg envsubst v1.5.0 (the version
// kustomize-controller v1.8.3 pins through fluxcd/pkg/kustomize v1.27.1): envsubst/parse/scan.go, parse/parse.go,
// template.go and funcs.go, itself a fork of drone/envsubst. The scanner is translated as it is (including its
// habit of deleting an escape character from its buffer), so that escapes (`$${VAR}`, `\/` in replacements)
// behave exactly as in Flux. tests/validate/envsubst.test.ts runs upstream's eval_test.go vectors.
// Lengths and offsets count UTF-16 units where Go counts bytes: they differ only for non-ASCII values.

const EOF = "";

type Token = "illegal" | "eof" | "ident" | "lbrack" | "rbrack";
type Accept = (r: string, i: number) => boolean;

const SCAN_IDENT = 1;
const SCAN_LBRACK = 2;
const SCAN_RBRACK = 4;
const SCAN_ESCAPE = 8;
const DOLLAR = 1;
const BACKSLASH = 2;
const ESCAPE_ALL = DOLLAR | BACKSLASH;

class Scanner {
    buf = "";
    pos = 0;
    start = 0;
    width = 0;
    mode = 0;
    escapeChars = 0;
    accept: Accept = () => false;

    constructor(buf: string) {
        this.buf = buf;
    }

    read(): string {
        if (this.pos >= this.buf.length) {
            this.width = 0;
            return EOF;
        }
        const r = String.fromCodePoint(this.buf.codePointAt(this.pos)!);
        this.width = r.length;
        this.pos += this.width;
        return r;
    }

    unread(): void {
        this.pos -= this.width;
    }

    /** Drops the character before pos (the escape character) from the buffer. */
    skip(): void {
        this.buf = this.buf.slice(0, this.pos - 1) + this.buf.slice(this.pos);
    }

    peek(): string {
        const r = this.read();
        this.unread();
        return r;
    }

    string(): string {
        return this.buf.slice(this.start, this.pos);
    }

    scan(): Token {
        this.start = this.pos;
        const r = this.read();
        if (r === EOF) return "eof";
        if (this.scanLbrack(r)) return "lbrack";
        if (this.scanRbrack(r)) return "rbrack";
        if (this.scanIdent(r)) return "ident";
        return "illegal";
    }

    private scanIdent(first: string): boolean {
        if ((this.mode & SCAN_IDENT) === 0) return false;
        if (this.scanEscaped(first)) this.skip();
        else if (!this.accept(first, this.pos - this.start)) return false;
        for (;;) {
            const r = this.read();
            if (r === EOF) {
                this.unread();
                break;
            }
            if (this.scanLbrack(r)) {
                this.unread();
                this.unread();
                break;
            }
            if (this.scanEscaped(r)) {
                this.skip();
                continue;
            }
            if (!this.accept(r, this.pos - this.start)) {
                this.unread();
                break;
            }
        }
        return true;
    }

    private scanLbrack(r: string): boolean {
        if ((this.mode & SCAN_LBRACK) === 0) return false;
        if (r === "$") {
            if (this.read() === "{") return true;
            this.unread();
        }
        return false;
    }

    private scanRbrack(r: string): boolean {
        return (this.mode & SCAN_RBRACK) !== 0 && r === "}";
    }

    private scanEscaped(r: string): boolean {
        if ((this.mode & SCAN_ESCAPE) === 0) return false;
        if (r === "$" && (this.escapeChars & DOLLAR) !== 0 && this.peek() === "$") return true;
        if (r === "\\" && (this.escapeChars & BACKSLASH) !== 0) {
            const next = this.peek();
            return next === "/" || next === "\\";
        }
        return false;
    }
}

const isLetter = (r: string) => /^\p{L}$/u.test(r);
const isDigit = (r: string) => /^\p{Nd}$/u.test(r);
const acceptRune: Accept = () => true;
const acceptIdent: Accept = (r) => isLetter(r) || isDigit(r) || r === "_";
const acceptColon: Accept = (r) => r === ":";
const acceptOneHash: Accept = (r, i) => r === "#" && i === 1;
const acceptNotClosing: Accept = (r) => r !== "}";
const acceptHashFunc: Accept = (r, i) => r === "#" && i < 3;
const acceptPercentFunc: Accept = (r, i) => r === "%" && i < 3;
const acceptDefaultFunc: Accept = (r, i) => (i === 1 && r === ":") || (i === 2 && "=-?+".includes(r) && r !== "");
const acceptReplaceFunc: Accept = (r, i) => (i === 1 && r === "/") || (i === 2 && "/#%".includes(r) && r !== "");
const acceptOneEqual: Accept = (r, i) => i === 1 && r === "=";
const acceptOneColon: Accept = (r, i) => i === 1 && r === ":";
const rejectColonClose: Accept = (r) => r !== ":" && r !== "}";
const acceptSlash: Accept = (r) => r === "/";
const acceptNotSlash: Accept = (r) => r !== "/";
const acceptCasingFunc: Accept = (r, i) => (r === "," || r === "^") && i < 3;

type Node = { text: string } | { param: string; name: string; args: Node[] } | { list: Node[] };

export class EnvsubstError extends Error {}

const bad = (what: string) => new EnvsubstError(what);
const EMPTY: Node = { text: "" };

class Parser {
    private readonly s: Scanner;

    constructor(buf: string) {
        this.s = new Scanner(buf);
    }

    parseAny(): Node {
        const s = this.s;
        s.accept = acceptRune;
        s.mode = SCAN_IDENT | SCAN_LBRACK | SCAN_ESCAPE;
        s.escapeChars = DOLLAR;
        const token = s.scan();
        let left: Node;
        if (token === "ident") left = { text: s.string() };
        else if (token === "eof") return EMPTY;
        else if (token === "lbrack") left = this.parseFunc();
        else throw bad("bad substitution");
        const right = this.parseAny();
        return right === EMPTY ? left : { list: [left, right] };
    }

    private parseFunc(): Node {
        const s = this.s;
        s.escapeChars = ESCAPE_ALL;
        if (s.peek() === "#") return this.parseLenFunc();
        s.accept = acceptIdent;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("unable to parse variable name");
        const name = s.string();
        switch (s.peek()) {
            case ":":
                return this.parseDefaultOrSubstr(name);
            case "=":
                return this.parseDefaultFunc(name);
            case ",":
            case "^":
                return this.parseCasingFunc(name);
            case "/":
                return this.parseReplaceFunc(name);
            case "#":
                return this.parseRemoveFunc(name, acceptHashFunc);
            case "%":
                return this.parseRemoveFunc(name, acceptPercentFunc);
        }
        s.accept = acceptIdent;
        s.mode = SCAN_RBRACK;
        if (s.scan() !== "rbrack") throw bad("missing closing brace");
        return { param: name, name: "", args: [] };
    }

    private parseParam(accept: Accept, mode: number): Node {
        const s = this.s;
        s.accept = accept;
        s.mode = mode | SCAN_LBRACK;
        const token = s.scan();
        if (token === "lbrack") return this.parseFunc();
        if (token === "ident" || token === "rbrack") return { text: s.string() };
        throw bad("unable to parse substitution within function");
    }

    private parseDefaultOrSubstr(name: string): Node {
        const s = this.s;
        s.read();
        const r = s.peek();
        s.unread();
        return "=-?+".includes(r) && r !== "" ? this.parseDefaultFunc(name) : this.parseSubstrFunc(name);
    }

    private parseSubstrFunc(name: string): Node {
        const s = this.s;
        const node = { param: name, name: "", args: [] as Node[] };
        s.accept = acceptOneColon;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        node.name = s.string();
        node.args.push(this.parseParam(rejectColonClose, SCAN_IDENT));
        s.accept = acceptColon;
        s.mode = SCAN_IDENT | SCAN_RBRACK;
        const token = s.scan();
        if (token === "rbrack") return node;
        if (token !== "ident") throw bad("bad substitution");
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        this.consumeRbrack();
        return node;
    }

    private parseRemoveFunc(name: string, accept: Accept): Node {
        const s = this.s;
        const node = { param: name, name: "", args: [] as Node[] };
        s.accept = accept;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        node.name = s.string();
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        this.consumeRbrack();
        return node;
    }

    private parseReplaceFunc(name: string): Node {
        const s = this.s;
        const node = { param: name, name: "", args: [] as Node[] };
        s.accept = acceptReplaceFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        node.name = s.string();
        node.args.push(this.parseParam(acceptNotSlash, SCAN_IDENT | SCAN_ESCAPE));
        s.accept = acceptSlash;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        if (s.peek() === "}") {
            this.consumeRbrack();
            return node;
        }
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT | SCAN_ESCAPE));
        this.consumeRbrack();
        return node;
    }

    private parseDefaultFunc(name: string): Node {
        const s = this.s;
        const node = { param: name, name: "", args: [] as Node[] };
        s.accept = s.peek() === "=" ? acceptOneEqual : acceptDefaultFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("unable to parse default function");
        node.name = s.string();
        for (;;) {
            if (s.peek() === "}") {
                this.consumeRbrack();
                return node;
            }
            // Go loops forever at the end of input here only if parseParam never fails; it does fail at EOF.
            node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        }
    }

    private parseCasingFunc(name: string): Node {
        const s = this.s;
        s.accept = acceptCasingFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        const node = { param: name, name: s.string(), args: [] };
        this.consumeRbrack();
        return node;
    }

    private parseLenFunc(): Node {
        const s = this.s;
        s.accept = acceptOneHash;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        const name = s.string();
        s.accept = acceptIdent;
        s.mode = SCAN_IDENT;
        if (s.scan() !== "ident") throw bad("bad substitution");
        const node = { param: s.string(), name, args: [] };
        this.consumeRbrack();
        return node;
    }

    private consumeRbrack(): void {
        this.s.mode = SCAN_RBRACK;
        if (this.s.scan() !== "rbrack") throw bad("bad substitution");
    }
}

/** A variable's value and whether it is set (Flux's mapping returns set for every name unless strict). */
export type Mapping = (name: string) => [string, boolean];

/** envsubst.Eval: the text with every `${…}` expression replaced; throws EnvsubstError on a syntax error or (strict) an unset variable. */
export function envsubst(text: string, mapping: Mapping): string {
    return evaluate(new Parser(text).parseAny(), mapping);
}

function evaluate(node: Node, mapping: Mapping): string {
    if ("text" in node) return node.text;
    if ("list" in node) return node.list.map((child) => evaluate(child, mapping)).join("");
    const args = node.args.map((arg) => evaluate(arg, mapping));
    const [value, exists] = mapping(node.param);
    if (node.name === "" && !exists) throw new EnvsubstError(`variable not set (strict mode): "${node.param}"`);
    return lookupFunc(node.name, args.length)(value, args);
}

type Func = (s: string, args: string[]) => string;

function lookupFunc(name: string, args: number): Func {
    switch (name) {
        case ",":
            return (s) => (s === "" ? s : firstChar(s).toLowerCase() + s.slice(firstChar(s).length));
        case ",,":
            return (s) => s.toLowerCase();
        case "^":
            return (s) => (s === "" ? s : firstChar(s).toUpperCase() + s.slice(firstChar(s).length));
        case "^^":
            return (s) => s.toUpperCase();
        case "#":
            return args === 0 ? (s) => String(Buffer.byteLength(s)) : (s, a) => (a.length ? trimShortest(s, a[0]) : s);
        case "##":
            return (s, a) => (a.length ? trimLongest(s, a[0]) : s);
        case "%":
            return (s, a) => (a.length ? reverse(trimShortest(reverse(s), reverse(a[0]))) : s);
        case "%%":
            return (s, a) => (a.length ? reverse(trimLongest(reverse(s), reverse(a[0]))) : s);
        case ":":
            return toSubstr;
        case "/#":
            return (s, a) => (a.length === 2 && s.startsWith(a[0]) ? a[1] + s.slice(a[0].length) : s);
        case "/%":
            return (s, a) => (a.length === 2 && s.endsWith(a[0]) ? s.slice(0, s.length - a[0].length) + a[1] : s);
        case "/":
            return (s, a) => (a.length === 0 ? s : s.replace(a[0], () => a[1] ?? ""));
        case "//":
            return (s, a) => (a.length === 0 ? s : s.split(a[0]).join(a[1] ?? ""));
        default:
            // "=", ":=", ":-", ":?", ":+", "-", "+" and anything else: the default when empty.
            return (s, a) => (s.length === 0 && a.length > 0 ? a.join("") : s);
    }
}

function firstChar(s: string): string {
    return String.fromCodePoint(s.codePointAt(0)!);
}

function reverse(s: string): string {
    return [...s].reverse().join("");
}

function toSubstr(s: string, args: string[]): string {
    if (args.length === 0) return s;
    let pos = goAtoi(args[0]);
    if (pos === undefined) return s;
    if (pos < 0) pos = Math.max(0, s.length + pos);
    if (args.length === 1) return pos < s.length ? s.slice(pos) : "";
    const length = goAtoi(args[1]);
    if (length === undefined) return s;
    if (pos + length >= s.length) return pos < s.length ? s.slice(pos) : "";
    return s.slice(pos, pos + length);
}

function goAtoi(text: string): number | undefined {
    return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

function trimShortest(s: string, pattern: string): string {
    const match = globMatcher(pattern);
    if (!match) return s;
    let shortest = "";
    for (let i = 0; i < s.length; i++) {
        if (match(s.slice(0, s.length - i))) shortest = s.slice(0, s.length - i);
    }
    return shortest !== "" && s.startsWith(shortest) ? s.slice(shortest.length) : s;
}

function trimLongest(s: string, pattern: string): string {
    const match = globMatcher(pattern);
    if (!match) return s;
    for (let i = 0; i < s.length; i++) {
        if (match(s.slice(0, s.length - i))) return s.slice(s.length - i);
    }
    return s;
}

/** Go's path.Match as a function (undefined for a malformed pattern, where Go returns ErrBadPattern). */
function globMatcher(pattern: string): ((name: string) => boolean) | undefined {
    let source = "";
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "*") source += ".*";
        else if (c === "?") source += ".";
        else if (c === "\\") {
            if (i + 1 >= pattern.length) return undefined;
            source += escapeRegExp(pattern[++i]);
        } else if (c === "[") {
            const end = pattern.indexOf("]", i + 2);
            if (end === -1) return undefined;
            let body = pattern.slice(i + 1, end);
            const negate = body.startsWith("^");
            if (negate) body = body.slice(1);
            source += `[${negate ? "^" : ""}${body.replace(/[\]\\]/g, "\\$&")}]`;
            i = end;
        } else source += escapeRegExp(c);
    }
    const regex = new RegExp(`^${source}$`, "s");
    return (name) => regex.test(name);
}

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
