// The S3 test peer: s3rver (a real S3-compatible server) on a free
// loopback port, for sluice's S3 tests.
//
// s3rver 3.7.1 checks that a SigV4 request's access key id exists but does
// not check the signature itself, so this launcher puts a verifier in front
// of it: the canonical request is rebuilt from the raw request (path as
// sent, query parameters decoded, re-encoded and sorted, the signed headers)
// and the signature computed with the account's secret, as AWS does. A
// wrong secret is then "403 SignatureDoesNotMatch", as it would be on S3.
//
// usage: node --openssl-legacy-provider server.js DATA_DIR PORT_FILE BUCKET...
// (s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its legacy
// provider). Writes the port to PORT_FILE once listening; exits on SIGTERM
// or when its parent dies.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Readable } = require('stream');
const S3rver = require(path.join(__dirname, 'node_modules', 's3rver'));

/** The accounts' secrets by access key id (s3rver's built-in account). */
const SECRETS = { S3RVER: 'S3RVER' };

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept). */
function awsEncode(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** Decode a query component, or null when it is not valid. */
function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return null;
  }
}

/** The canonical query string of a raw query. */
function canonicalQuery(raw) {
  if (!raw) return '';
  const pairs = raw
    .split('&')
    .filter(p => p !== '')
    .map(p => {
      const i = p.indexOf('=');
      const k = decode(i < 0 ? p : p.slice(0, i));
      const v = decode(i < 0 ? '' : p.slice(i + 1));
      return [awsEncode(k === null ? p : k), awsEncode(v === null ? '' : v)];
    });
  pairs.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  );
  return pairs.map(([k, v]) => k + '=' + v).join('&');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

/** null when the request's SigV4 signature is right, else why not. */
function verify(req) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(
    auth,
  );
  if (!m) return null; // not SigV4 in a header: s3rver decides
  const [, keyId, date, region, service, signedHeaders, signature] = m;
  const secret = SECRETS[keyId];
  if (secret === undefined) return null; // s3rver says InvalidAccessKeyId
  const amzDate = req.headers['x-amz-date'] || '';
  const payload = req.headers['x-amz-content-sha256'] || '';
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const names = signedHeaders.split(';');
  for (const need of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!names.includes(need)) return `header ${need} is not signed`;
  if (req.headers['x-amz-security-token'] !== undefined &&
      !names.includes('x-amz-security-token'))
    return 'header x-amz-security-token is not signed';
  const canonHeaders = names
    .map(n => n + ':' + String(req.headers[n] || '').trim().replace(/\s+/g, ' ') + '\n')
    .join('');
  const canonical = [
    req.method,
    rawPath,
    canonicalQuery(rawQuery),
    canonHeaders,
    signedHeaders,
    payload,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    crypto.createHash('sha256').update(canonical, 'utf8').digest('hex'),
  ].join('\n');
  let k = hmac('AWS4' + secret, date);
  k = hmac(k, region);
  k = hmac(k, service);
  k = hmac(k, 'aws4_request');
  const want = crypto.createHmac('sha256', k).update(toSign, 'utf8').digest('hex');
  return want === signature ? null : 'the signature does not match';
}

/** The whole body of `req`, or null when the client went away first. */
function readWhole(req) {
  return new Promise(resolve => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

async function main() {
  const [dir, portFile, ...buckets] = process.argv.slice(2);
  if (!dir || !portFile) {
    console.error('usage: server.js DATA_DIR PORT_FILE BUCKET...');
    process.exit(2);
  }
  fs.mkdirSync(dir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: buckets.map(name => ({ name, configs: [] })),
  });
  // The verifier runs before s3rver's own middleware.
  server.middleware.unshift(async (ctx, next) => {
    const why = verify(ctx.req);
    if (why !== null) {
      ctx.status = 403;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
        '<Message>The request signature we calculated does not match the signature you provided (' +
        why + ').</Message></Error>';
      return;
    }
    // S3 stores a PUT's object whole or not at all. s3rver writes the body
    // into the object's file as it arrives, so a client killed in the
    // middle of a PUT would leave a truncated object (an empty checkpoint,
    // seen in CI). Take the whole body first, as S3 does.
    if (ctx.method === 'PUT') {
      const body = await readWhole(ctx.req);
      if (body === null) {
        ctx.status = 400;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>IncompleteBody</Code>' +
          '<Message>You did not provide the number of bytes specified by the ' +
          'Content-Length HTTP header.</Message></Error>';
        return;
      }
      const whole = Readable.from([body], { objectMode: false });
      whole.headers = ctx.req.headers;
      whole.method = ctx.req.method;
      whole.url = ctx.req.url;
      ctx.req = whole;
    }
    await next();
  });
  const { port } = await server.run();
  fs.writeFileSync(portFile + '.tmp', String(port));
  fs.renameSync(portFile + '.tmp', portFile);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 500).unref();
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
