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
// It also answers STS AssumeRole (a form POST to "/", as on
// sts.REGION.amazonaws.com) when the environment configures a role:
//   S3PEER_STS_KEYS         base accounts that may call STS, "ID:SECRET,..."
//                           (STS only: S3 does not know them)
//   S3PEER_STS_ROLE         the role ARN that can be assumed
//   S3PEER_STS_EXTERNAL_ID  the ExternalId its trust policy demands, if any
//   S3PEER_STS_TTL          seconds the temporary credentials last (3600)
// The request's SigV4 signature (service "sts", the body's hash) is checked
// against the base account's secret, then RoleArn and ExternalId; errors are
// STS's (InvalidClientTokenId, SignatureDoesNotMatch, AccessDenied,
// ValidationError). The temporary credentials it returns are accepted by S3
// only with their session token (x-amz-security-token, signed) and only
// until their Expiration ("400 ExpiredToken" after).
//   S3PEER_STS_CLOCK        seconds STS's clock is off (its Date header and
//                           the Expiration it writes; S3 keeps true time)
//   S3PEER_STS_FAIL         AssumeRole calls (numbers from 1, "2,3") answered
//                           "503 ServiceUnavailable", as STS may
//   S3PEER_LOG              a file that gets a line per STS call and per S3
//                           request ("sts ok ROLE KEY", "s3 KEY METHOD PATH")
//   S3PEER_GET_DELAY_MS     delay before answering an object GET signed with
//                           temporary credentials (runs that outlast them)
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
const AWSAccount = require(
  path.join(__dirname, 'node_modules', 's3rver', 'lib', 'models', 'account'),
);

/** The accounts' secrets by access key id (s3rver's built-in account). */
const SECRETS = { S3RVER: 'S3RVER' };

/** STS's base accounts: secret by access key id. */
const STS_KEYS = {};
for (const pair of (process.env.S3PEER_STS_KEYS || '').split(',')) {
  const i = pair.indexOf(':');
  if (i > 0) STS_KEYS[pair.slice(0, i)] = pair.slice(i + 1);
}
const STS_ROLE = process.env.S3PEER_STS_ROLE || '';
const STS_EXTERNAL_ID = process.env.S3PEER_STS_EXTERNAL_ID;
const STS_TTL = Number(process.env.S3PEER_STS_TTL || 3600);
const STS_CLOCK_MS = Number(process.env.S3PEER_STS_CLOCK || 0) * 1000;
const STS_FAIL = (process.env.S3PEER_STS_FAIL || '').split(',').filter(x => x).map(Number);
const LOG = process.env.S3PEER_LOG;

/** AssumeRole calls so far. */
let stsCalls = 0;
const GET_DELAY_MS = Number(process.env.S3PEER_GET_DELAY_MS || 0);

/** Temporary credentials by access key id: {secret, token, expires}. */
const TEMP = {};

/** Append a line to the log file, if there is one. */
function log(line) {
  if (LOG) fs.appendFileSync(LOG, line + '\n');
}

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

/** The parts of a SigV4 Authorization header, or null. */
function parseAuth(req) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(
    auth,
  );
  if (!m) return null;
  const [, keyId, date, region, service, signedHeaders, signature] = m;
  return { keyId, date, region, service, signedHeaders, signature };
}

/**
 * null when the SigV4 signature `a` (parseAuth()) of `req` is right for
 * `secret`, else why not. `payload` is the body's hash (S3: the
 * x-amz-content-sha256 header, checked by S3 itself).
 */
function verifyWith(req, a, secret, payload) {
  const { date, region, service, signedHeaders, signature } = a;
  const amzDate = req.headers['x-amz-date'] || '';
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const names = signedHeaders.split(';');
  for (const need of ['host', 'x-amz-date'])
    if (!names.includes(need)) return `header ${need} is not signed`;
  if (service === 's3' && !names.includes('x-amz-content-sha256'))
    return 'header x-amz-content-sha256 is not signed';
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

/**
 * Check an S3 request's signature: null when right or when s3rver is to
 * decide (no SigV4 header, an unknown key), else [status, code, message].
 */
function verify(req) {
  const a = parseAuth(req);
  if (a === null) return null; // not SigV4 in a header: s3rver decides
  const payload = req.headers['x-amz-content-sha256'] || '';
  const temp = TEMP[a.keyId];
  if (temp !== undefined) {
    const token = req.headers['x-amz-security-token'];
    if (token !== temp.token) {
      log(`s3 badtoken ${a.keyId}`);
      return [403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.'];
    }
    if (Date.now() >= temp.expires) {
      log(`s3 expired ${a.keyId} ${req.method} ${req.url}`);
      return [400, 'ExpiredToken', 'The provided token has expired.'];
    }
  }
  const secret = temp !== undefined ? temp.secret : SECRETS[a.keyId];
  if (secret === undefined) return null; // s3rver says InvalidAccessKeyId
  const why = a.service !== 's3'
    ? `the credential scope is for ${a.service}, not s3`
    : verifyWith(req, a, secret, payload);
  if (why === null) {
    log(`s3 ${a.keyId} ${req.method} ${req.url}`);
    return null;
  }
  return [
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided (' +
      why + ').',
  ];
}

/** Escape text for XML. */
function xmlText(s) {
  return String(s).replace(/[<>&'"]/g, c =>
    ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c],
  );
}

/** Random characters of `alphabet`, `n` of them. */
function randomText(alphabet, n) {
  const b = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[b[i] % alphabet.length];
  return s;
}

/** An STS error response on `ctx`. */
function stsError(ctx, status, code, message) {
  log(`sts fail ${code}`);
  ctx.status = status;
  ctx.type = 'text/xml';
  ctx.body =
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
    `  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n` +
    `    <Message>${xmlText(message)}</Message>\n  </Error>\n` +
    `  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`;
}

/** Answer the STS AssumeRole request on `ctx` whose body is `body`. */
function assumeRole(ctx, body) {
  const req = ctx.req;
  if (STS_FAIL.includes(++stsCalls))
    return stsError(ctx, 503, 'ServiceUnavailable', 'Service is unavailable. Try again later.');
  const a = parseAuth(req);
  if (a === null)
    return stsError(ctx, 403, 'MissingAuthenticationToken',
      'Request is missing Authentication Token');
  const secret = STS_KEYS[a.keyId];
  if (secret === undefined || a.service !== 'sts')
    return stsError(ctx, 403, 'InvalidClientTokenId',
      'The security token included in the request is invalid.');
  const hash = crypto.createHash('sha256').update(body).digest('hex');
  const why = verifyWith(req, a, secret, hash);
  if (why !== null)
    return stsError(ctx, 403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature ' +
        'you provided. Check your AWS Secret Access Key and signing method. ' +
        '(' + why + ')');
  const form = new URLSearchParams(body.toString('utf8'));
  if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15')
    return stsError(ctx, 400, 'InvalidAction',
      `Could not find operation ${form.get('Action')} for version ${form.get('Version')}`);
  const session = form.get('RoleSessionName') || '';
  if (!/^[\w+=,.@-]{2,64}$/.test(session))
    return stsError(ctx, 400, 'ValidationError',
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
  const role = form.get('RoleArn') || '';
  const ext = form.get('ExternalId');
  const denied = () =>
    stsError(ctx, 403, 'AccessDenied',
      `User: arn:aws:iam::000000000000:user/${a.keyId} is not authorized to ` +
        `perform: sts:AssumeRole on resource: ${role}`);
  if (STS_ROLE === '' || role !== STS_ROLE) return denied();
  if (STS_EXTERNAL_ID !== undefined && ext !== STS_EXTERNAL_ID) return denied();
  const keyId = 'ASIA' + randomText('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16);
  const tempSecret = randomText(
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 40);
  const token = 'FwoGZXIvYXdzE' + crypto.randomBytes(240).toString('base64');
  const expires = Date.now() + STS_TTL * 1000;
  TEMP[keyId] = { secret: tempSecret, token, expires };
  // STS's clock, when it is off, shows in its Date and Expiration.
  const stsNow = new Date(Date.now() + STS_CLOCK_MS);
  ctx.set('Date', stsNow.toUTCString());
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, tempSecret);
  log(`sts ok ${role} ${keyId} ${session} ${form.has('DurationSeconds') ? 'duration' : 'noduration'}`);
  ctx.status = 200;
  ctx.type = 'text/xml';
  ctx.body =
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
    '  <AssumeRoleResult>\n    <AssumedRoleUser>\n' +
    `      <AssumedRoleId>AROA0000000000000000:${xmlText(session)}</AssumedRoleId>\n` +
    `      <Arn>${xmlText(role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/'))}/${xmlText(session)}</Arn>\n` +
    '    </AssumedRoleUser>\n    <Credentials>\n' +
    `      <AccessKeyId>${keyId}</AccessKeyId>\n` +
    `      <SecretAccessKey>${xmlText(tempSecret)}</SecretAccessKey>\n` +
    `      <SessionToken>${xmlText(token)}</SessionToken>\n` +
    `      <Expiration>${new Date(expires + STS_CLOCK_MS).toISOString()}</Expiration>\n` +
    '    </Credentials>\n  </AssumeRoleResult>\n' +
    `  <ResponseMetadata>\n    <RequestId>${crypto.randomUUID()}</RequestId>\n` +
    '  </ResponseMetadata>\n</AssumeRoleResponse>\n';
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
  // s3rver 3.7.1 answers a PUT once the body has gone through its MD5,
  // before its file is written out, so a GET right after could read a
  // shorter object (a 3 MiB PUT read back as 2 MiB, without an error).
  // S3 reads back what it acknowledged: the store here writes the whole
  // file, then the metadata, before the PUT is answered.
  const store = server.store;
  store.putObject = async object => {
    let body = object.content;
    if (!Buffer.isBuffer(body)) {
      const parts = [];
      for await (const part of body) parts.push(part);
      body = Buffer.concat(parts);
    }
    const file = store.getResourcePath(object.bucket, object.key, 'object');
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, body);
    const md5 = crypto.createHash('md5').update(body).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: body.length, md5 };
  };
  // The verifier runs before s3rver's own middleware.
  server.middleware.unshift(async (ctx, next) => {
    // STS: a form POST to the root (S3 has no POST there).
    if (ctx.method === 'POST' && (ctx.req.url === '/' || ctx.req.url.startsWith('/?'))) {
      const body = await readWhole(ctx.req);
      if (body !== null) assumeRole(ctx, body);
      return;
    }
    const bad = verify(ctx.req);
    if (bad !== null) {
      ctx.status = bad[0];
      ctx.type = 'application/xml';
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${bad[1]}</Code>` +
        `<Message>${xmlText(bad[2])}</Message></Error>`;
      return;
    }
    // A slow object GET (/BUCKET/KEY) with temporary credentials, for runs
    // that outlast them.
    const auth = parseAuth(ctx.req);
    if (GET_DELAY_MS > 0 && ctx.method === 'GET' && auth !== null &&
        TEMP[auth.keyId] !== undefined && /^\/[^/?]+\/[^?]/.test(ctx.req.url))
      await new Promise(resolve => setTimeout(resolve, GET_DELAY_MS));
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
