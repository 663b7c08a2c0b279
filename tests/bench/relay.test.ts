import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DelayRelay } from "../../bench/relay.ts";
import { Moto } from "../support/moto.ts";

// The bench's relayed rows rest on this relay: what passes through it arrives whole and in order, and no later than
// it left plus the round trip (a lower bound only: an upper one would be a timed test).
describe("bench/relay.ts: a relay in front of moto that adds a round trip to every request", () => {
    let moto: Moto;
    let relay: DelayRelay;
    let s3: S3Client;
    const RTT = 60;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("relayed", false);
        relay = await DelayRelay.start(moto.endpoint, RTT);
        s3 = new S3Client({ endpoint: relay.endpoint, forcePathStyle: true, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    });
    after(async () => {
        s3?.destroy();
        await relay?.close();
        moto?.stop();
    });

    it("carries a body of many chunks both ways whole and in order", async () => {
        const body = randomBytes(3 * 1024 * 1024);
        await s3.send(new PutObjectCommand({ Bucket: "relayed", Key: "big", Body: body }));
        const got = await s3.send(new GetObjectCommand({ Bucket: "relayed", Key: "big" }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    });

    it("makes each request at least one round trip longer", async () => {
        await s3.send(new PutObjectCommand({ Bucket: "relayed", Key: "small", Body: "x" }));
        for (let request = 0; request < 3; request++) {
            const start = performance.now();
            const got = await s3.send(new GetObjectCommand({ Bucket: "relayed", Key: "small" }));
            assert.equal(await got.Body!.transformToString(), "x");
            assert.ok(performance.now() - start >= RTT, `request ${request}: ${(performance.now() - start).toFixed(1)} ms`);
        }
    });
});
