// A stand-in `pulumi` executable for the Automation API tests (tests/support/pulumiCli.ts puts it on PATH): it answers
// the commands @pulumi/pulumi 3.270's automation/*.js runs as the real CLI does, from a state file the test writes
// (PULUMI_STAND_IN_STATE). What it follows in pulumi/pulumi (read at v3.259.0, the newest tag in the snapshot; the
// SDK we run is 3.270.0):
// - errors: "error: <message>" on stderr (sdk/go/common/util/cmdutil/exit.go:90-107, DisplayErrorMessage), exit code
//   by pkg/cmd/pulumi/cmd/exit_codes.go:28-40 and 63-126 (3 authentication, 6 stack not found, 1 otherwise and for a
//   failed update, whose diagnostics were already displayed: a bail error);
// - not logged in, non-interactive: "PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"
//   (pkg/backend/backenderr/backenderr.go:117-119, returned by pkg/backend/httpstate/backend.go:779-783);
// - a missing stack: "no stack named '<name>' found" (backenderr.go:47);
// - `whoami --json`: {user, organizations, url} (pkg/cmd/pulumi/whoami/whoami.go:143-149); `stack ls --json`: an array
//   of {name, current, lastUpdate, updateInProgress, resourceCount, url} (pkg/cmd/pulumi/stack/stack_list.go:230-237);
//   `stack select` records the current stack (stack/stack_select.go:94-125, state.SetCurrentStack);
// - a failed update prints its diagnostics on stdout (pkg/engine/lifecycletest/testdata/output/
//   TestConstructHangsAfterRegisterResourceFailure/progress.stdout.txt; progress.stderr.txt is empty) and sends
//   them as diagnosticEvents; every operation ends with a summaryEvent, sent to `--event-log tcp://host:port` over
//   the pulumirpc.Events/StreamEvents stream (the Automation API's server for CLIs after 3.205.0, automation/stack.js).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const statePath = process.env.PULUMI_STAND_IN_STATE;
const state = JSON.parse(readFileSync(statePath, "utf8"));
const args = process.argv.slice(2);
state.calls.push(args);
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
save();

const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
};
const fail = (message, code) => {
    process.stderr.write(`error: ${message}\n`);
    process.exit(code);
};
const print = (value) => process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);

async function sendEvents(target, events) {
    if (!target) return;
    const require = createRequire(import.meta.resolve("@pulumi/pulumi/proto/events_grpc_pb.js").replace("file://", ""));
    const grpc = require("@grpc/grpc-js");
    const { EventsClient } = require("./events_grpc_pb.js");
    const { EventRequest } = require("./events_pb.js");
    const client = new EventsClient(target.replace(/^tcp:\/\//, ""), grpc.credentials.createInsecure());
    await new Promise((resolve, reject) => {
        const call = client.streamEvents((error) => (error ? reject(error) : resolve()));
        events.forEach((event, sequence) => {
            const request = new EventRequest();
            request.setEvent(JSON.stringify({ sequence, timestamp: Math.floor(Date.now() / 1000), ...event }));
            call.write(request);
        });
        call.end();
    });
    client.close();
}

const stackOf = () => {
    const name = flag("--stack") ?? state.current;
    const stack = state.stacks[name];
    if (!stack) fail(`no stack named '${name}' found`, 6);
    return [name, stack];
};

/** preview, up, destroy (and destroy --preview-only): progress on stdout, events on the event log, the state changed. */
async function operation(command) {
    const [name, stack] = stackOf();
    const previewOnly = command === "preview" || args.includes("--preview-only");
    const destroying = command === "destroy";
    const failure = stack.fail?.[previewOnly ? (destroying ? "previewDestroy" : "preview") : command];
    const verb = destroying ? (previewOnly ? "Previewing destroy" : "Destroying") : previewOnly ? "Previewing update" : "Updating";
    process.stdout.write(`${verb} (${name})\n\n     Type                 Name                Plan\n`);
    if (stack.stderr) process.stderr.write(stack.stderr);
    if (failure) {
        process.stdout.write(
            `     pulumi:pulumi:Stack  flux-bucket-${name}  **failed** 1 error\n` +
                `Diagnostics:\n  pulumi:pulumi:Stack (flux-bucket-${name}):\n${failure.map((line) => `    error: ${line}\n`).join("")}\n`,
        );
        await sendEvents(flag("--event-log"), [
            ...failure.map((message) => ({ diagnosticEvent: { prefix: "error: ", message: `${message}\n`, color: "raw", severity: "error" } })),
            { summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: {}, policyPacks: {} } },
        ]);
        save();
        process.exit(1);
    }
    const changes = destroying ? { delete: Object.keys(stack.outputs).length > 0 ? stack.resources : 0 } : stack.changes;
    process.stdout.write(`\nResources:\n${Object.entries(changes).map(([op, count]) => `    ${count} to ${op}\n`).join("")}\n`);
    await sendEvents(flag("--event-log"), [{ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: changes, policyPacks: {} } }]);
    if (!previewOnly) {
        stack.outputs = destroying ? {} : stack.upOutputs;
        stack.updates += 1;
    }
    save();
}

if (args[0] === "version") {
    process.stdout.write(`${state.version}\n`);
    process.exit(0);
}
if (!state.loggedIn) fail("PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions", 3);

const [command, sub] = args;
if (command === "whoami") {
    print({ user: state.user, organizations: [state.user], url: state.url });
} else if (command === "stack" && sub === "ls") {
    print(Object.entries(state.stacks).map(([name, stack]) => ({ name, current: name === state.current, resourceCount: Object.keys(stack.outputs).length > 0 ? stack.resources : 0, url: `${state.url}/flux-bucket/${name}` })));
} else if (command === "stack" && sub === "select") {
    const [name] = stackOf();
    state.current = name;
    save();
} else if (command === "stack" && sub === "output") {
    const [, stack] = stackOf();
    const show = args.includes("--show-secrets");
    print(Object.fromEntries(Object.entries(stack.outputs).map(([key, value]) => [key, !show && stack.secrets.includes(key) ? "[secret]" : value])));
} else if (command === "stack" && sub === "history") {
    const [, stack] = stackOf();
    print(stack.updates === 0 ? [] : [{ version: stack.updates, kind: "update", startTime: "2026-12-03T05:00:00.000Z", endTime: "2026-12-03T05:00:01.000Z", result: "succeeded", message: "", environment: {}, config: {}, resourceChanges: stack.changes }]);
} else if (command === "preview" || command === "up" || command === "destroy") {
    await operation(command);
} else {
    fail(`unknown command "${args.join(" ")}" for "pulumi"`, 2);
}
