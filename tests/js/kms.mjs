// The AWS SDK for JavaScript v3, unmodified, against Trent (symmetric keys, ECDSA signing checked
// offline with node:crypto, HMAC): run by tests/python/test_js_sdk.py
// with TRENT_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set. Any failed
// check throws (exit status 1); on success it prints one JSON line.
import assert from "node:assert/strict";
import { createPublicKey, verify as verifyOffline } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  InvalidCiphertextException,
  KMSClient,
  ListResourceTagsCommand,
  NotFoundException,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
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

// An ECDSA P-256 signing key: KMS signs, and Node's own crypto (OpenSSL) verifies the DER
// signature offline with the public key from GetPublicKey.
const signing = await client.send(
  new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }),
);
const signingId = signing.KeyMetadata.KeyId;
const message = new TextEncoder().encode("signed by Trent, checked by Node.js");
const signed = await client.send(
  new SignCommand({
    KeyId: signingId,
    Message: message,
    MessageType: "RAW",
    SigningAlgorithm: "ECDSA_SHA_256",
  }),
);
const publicKey = await client.send(new GetPublicKeyCommand({ KeyId: signingId }));
const spki = createPublicKey({ key: Buffer.from(publicKey.PublicKey), format: "der", type: "spki" });
assert.ok(verifyOffline("sha256", message, spki, Buffer.from(signed.Signature)));
const verified = await client.send(
  new VerifyCommand({
    KeyId: signingId,
    Message: message,
    MessageType: "RAW",
    Signature: signed.Signature,
    SigningAlgorithm: "ECDSA_SHA_256",
  }),
);
assert.equal(verified.SignatureValid, true);

// An HMAC key: GenerateMac, VerifyMac, and a changed message that does not verify.
const mac = await client.send(
  new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }),
);
const macId = mac.KeyMetadata.KeyId;
const tag = await client.send(
  new GenerateMacCommand({ KeyId: macId, Message: message, MacAlgorithm: "HMAC_SHA_256" }),
);
assert.equal(tag.Mac.length, 32);
const macOk = await client.send(
  new VerifyMacCommand({ KeyId: macId, Message: message, Mac: tag.Mac, MacAlgorithm: "HMAC_SHA_256" }),
);
assert.equal(macOk.MacValid, true);
await assert.rejects(
  client.send(
    new VerifyMacCommand({
      KeyId: macId,
      Message: new TextEncoder().encode("changed"),
      Mac: tag.Mac,
      MacAlgorithm: "HMAC_SHA_256",
    }),
  ),
  (e) => e.name === "KMSInvalidMacException",
);

console.log(JSON.stringify({ ok: true, keyArn: meta.Arn, alias }));
