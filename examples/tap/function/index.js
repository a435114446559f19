// The disaster-recovery function of the tap stack: each request writes one item
// to the global table in the function's own region and answers JSON. It signs
// its DynamoDB call itself (SigV4 with the execution role's temporary keys) so
// it needs no npm packages; AWS_ENDPOINT_URL points it at its region.
'use strict';
const crypto = require('crypto');
const http = require('http');
const https = require('https');

const hmac = (key, s) => crypto.createHmac('sha256', key).update(s).digest();
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

async function dynamodb(target, body) {
  const region = process.env.AWS_REGION || 'us-east-1';
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL ||
    `https://dynamodb.${region}.amazonaws.com`;
  const url = new URL(endpoint);
  const payload = JSON.stringify(body);
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = now.slice(0, 8);
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    host: url.host,
    'x-amz-date': now,
    'x-amz-target': `DynamoDB_20120810.${target}`,
  };
  if (process.env.AWS_SESSION_TOKEN) headers['x-amz-security-token'] = process.env.AWS_SESSION_TOKEN;
  const names = Object.keys(headers).sort();
  const canonical = ['POST', url.pathname || '/', '',
    ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), sha256(payload)].join('\n');
  const scope = `${day}/${region}/dynamodb/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${process.env.AWS_SECRET_ACCESS_KEY}`, day);
  key = hmac(hmac(hmac(key, region), 'dynamodb'), 'aws4_request');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${process.env.AWS_ACCESS_KEY_ID}/${scope}, ` +
    `SignedHeaders=${names.join(';')}, Signature=${hmac(key, toSign).toString('hex')}`;
  // http/https rather than fetch: fetch's parser needs WebAssembly memory that a
  // function's memory limit may not leave room for.
  const { status, text } = await new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', headers },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { data += c; });
        res.on('end', () => resolve({ status: res.statusCode, text: data }));
      });
    req.on('error', reject);
    req.end(payload);
  });
  if (status < 200 || status > 299) throw new Error(`${target}: ${status} ${text}`);
  return text ? JSON.parse(text) : {};
}

exports.handler = async (event) => {
  const region = process.env.AWS_REGION;
  const id = crypto.randomUUID();
  const item = {
    id: { S: id },
    region: { S: region },
    role: { S: process.env.DR_ROLE || 'unknown' },
    path: { S: (event && event.rawPath) || '/' },
    timestamp: { S: new Date().toISOString() },
  };
  try {
    await dynamodb('PutItem', { TableName: process.env.TABLE_NAME, Item: item });
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: `Hello from ${process.env.DR_ROLE} (${region})`, id, region,
        table: process.env.TABLE_NAME }),
    };
  } catch (err) {
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'write failed', error: String(err.message || err) + (err.cause ? ': ' + String(err.cause.message || err.cause) : ''),
        endpoint: process.env.AWS_ENDPOINT_URL, region }),
    };
  }
};
