// The AWS SDK for JavaScript v3, unmodified, against Trent: run by tests/python/test_js_sdk.py
// with TRENT_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set. Any failed
// check throws (exit status 1); on success it prints one JSON line.
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  InvalidCiphertextException,
  KMSClient,
  ListResourceTagsCommand,
  NotFoundException,
} from "@aws-sdk/client-kms";

const client = new KMSClient({
  endpoint: process.env.TRENT_ENDPOINT,
  region: process.env.AWS_REGION,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
  maxAttempts: 1,
});

const created = await client.send(
  new CreateKeyCommand({
    Description: "made by the JavaScript SDK",
    Tags: [{ TagKey: "sdk", TagValue: "js" }],
  }),
);
const meta = created.KeyMetadata;
assert.equal(meta.KeyState, "Enabled");
assert.equal(meta.KeySpec, "SYMMETRIC_DEFAULT");
assert.ok(meta.CreationDate instanceof Date, "CreationDate parses as a date");
assert.match(meta.Arn, /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/);

const tags = await client.send(new ListResourceTagsCommand({ KeyId: meta.KeyId }));
assert.deepEqual(tags.Tags, [{ TagKey: "sdk", TagValue: "js" }]);

const alias = `alias/js-${process.pid}-${Date.now()}`;
await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: meta.KeyId }));

const plaintext = new TextEncoder().encode("hello from JavaScript");
const context = { purpose: "js-test" };
const encrypted = await client.send(
  new EncryptCommand({ KeyId: alias, Plaintext: plaintext, EncryptionContext: context }),
);
assert.equal(encrypted.KeyId, meta.Arn);
assert.equal(encrypted.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
assert.ok(encrypted.$metadata.requestId, "x-amzn-RequestId reaches the SDK");

const decrypted = await client.send(
  new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context }),
);
assert.deepEqual(Buffer.from(decrypted.Plaintext), Buffer.from(plaintext));
assert.equal(decrypted.KeyId, meta.Arn);

// Errors arrive as the SDK's typed exceptions with AWS's status codes.
await assert.rejects(
  client.send(
    new DecryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob,
      EncryptionContext: { purpose: "other" },
    }),
  ),
  (e) => e instanceof InvalidCiphertextException && e.$metadata.httpStatusCode === 400,
);
await assert.rejects(
  client.send(new DescribeKeyCommand({ KeyId: "alias/does-not-exist" })),
  (e) => e instanceof NotFoundException && e.$metadata.httpStatusCode === 400,
);

const dataKey = await client.send(
  new GenerateDataKeyCommand({ KeyId: meta.KeyId, KeySpec: "AES_256", EncryptionContext: context }),
);
assert.equal(dataKey.Plaintext.length, 32);
const unwrapped = await client.send(
  new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context }),
);
assert.deepEqual(Buffer.from(unwrapped.Plaintext), Buffer.from(dataKey.Plaintext));

console.log(JSON.stringify({ ok: true, keyArn: meta.Arn, alias }));
