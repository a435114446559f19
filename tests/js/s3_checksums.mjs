// s3_checksums.mjs - a multipart upload with a whole-object (FULL_OBJECT)
// checksum through the AWS SDK for JavaScript v3, for Tandem's S3 checksum
// tests (tests/integration/test_s3_checksums.py).
//
// Usage: node s3_checksums.mjs BUCKET KEY ALGORITHM FILE PART_SIZE
// Uploads FILE in parts of PART_SIZE bytes with ChecksumAlgorithm ALGORITHM
// and ChecksumType FULL_OBJECT (the SDK computes each part's checksum), then
// reads the object back with ChecksumMode ENABLED (the SDK checks the body
// against the whole-object checksum) and asks GetObjectAttributes. Endpoint
// from $TANDEM_ENDPOINT; credentials and region from the usual AWS_*
// variables. Prints {"create","complete","head","get","attrs"} as JSON; on a
// service error prints {"error","message"} and exits 1.
import { readFileSync } from "node:fs";
import * as s3 from "@aws-sdk/client-s3";

const [Bucket, Key, alg, file, partSize] = process.argv.slice(2);
const data = readFileSync(file);
const size = Number(partSize);
const client = new s3.S3Client({
  endpoint: process.env.TANDEM_ENDPOINT,
  region: process.env.AWS_REGION,
  forcePathStyle: true,
  maxAttempts: 2,
});
const strip = (o) => {
  delete o.$metadata;
  return o;
};
try {
  const create = await client.send(
    new s3.CreateMultipartUploadCommand({
      Bucket,
      Key,
      ChecksumAlgorithm: alg,
      ChecksumType: "FULL_OBJECT",
    }),
  );
  const Parts = [];
  for (let off = 0, n = 1; off < data.length; off += size, n++) {
    const p = await client.send(
      new s3.UploadPartCommand({
        Bucket,
        Key,
        UploadId: create.UploadId,
        PartNumber: n,
        Body: data.subarray(off, off + size),
        ChecksumAlgorithm: alg,
      }),
    );
    Parts.push({ PartNumber: n, ETag: p.ETag, [`Checksum${alg}`]: p[`Checksum${alg}`] });
  }
  const complete = await client.send(
    new s3.CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId: create.UploadId,
      ChecksumType: "FULL_OBJECT",
      MultipartUpload: { Parts },
    }),
  );
  const head = await client.send(new s3.HeadObjectCommand({ Bucket, Key, ChecksumMode: "ENABLED" }));
  const got = await client.send(new s3.GetObjectCommand({ Bucket, Key, ChecksumMode: "ENABLED" }));
  const body = Buffer.from(await got.Body.transformToByteArray());
  delete got.Body;
  got.same = Buffer.compare(body, data) === 0;
  const attrs = await client.send(
    new s3.GetObjectAttributesCommand({
      Bucket,
      Key,
      ObjectAttributes: ["Checksum", "ObjectParts", "ObjectSize"],
    }),
  );
  console.log(
    JSON.stringify({
      create: strip(create),
      complete: strip(complete),
      head: strip(head),
      get: strip(got),
      attrs: strip(attrs),
    }),
  );
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: String(e.message) }));
  process.exitCode = 1;
} finally {
  client.destroy();
}
