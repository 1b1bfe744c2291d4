// A single-page app on an origin the service allows: the whole customer and
// admin flow, with fetch, as a frontend would write it.
'use strict';

const password = 'correct horse battery';
// The W3C Trace Context example ids, as OpenTelemetry's browser
// instrumentation would send them.
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function login(email) {
  const r = await call('POST', '/v1/auth/login', {body: {email, password}});
  return {r, token: r.json && r.json.access_token};
}

run('app', async () => {
  // A customer signs up and logs in.
  let r = await call('POST', '/v1/auth/signup', {body: {email: 'carol@shop.test', password, name: 'Carol'}});
  results.signup = {status: r.status, location: header(r, 'Location'), resolved: resolve(r, header(r, 'Location')),
    requestId: header(r, 'X-Request-Id')};
  const carol = await login('carol@shop.test');
  results.login = {status: carol.r.status, tokenType: carol.r.json && carol.r.json.token_type,
    rateLimit: header(carol.r, 'RateLimit'), rateLimitPolicy: header(carol.r, 'RateLimit-Policy')};

  // Who am I: without a token, with a bad one, and with the right one,
  // sending trace context and the app's own request id.
  r = await call('GET', '/v1/me');
  results.meAnonymous = {status: r.status, wwwAuthenticate: header(r, 'WWW-Authenticate'),
    requestId: header(r, 'X-Request-Id')};
  r = await call('GET', '/v1/me', {token: 'not.a.token'});
  results.meBadToken = {status: r.status, wwwAuthenticate: header(r, 'WWW-Authenticate')};
  r = await call('GET', '/v1/me', {token: carol.token, probe: 'me', headers: {
    traceparent, tracestate: 'bedrock=browser', baggage: 'tenant=shop', 'X-Request-Id': 'browser-me-1'}});
  results.me = {status: r.status, email: r.json && r.json.email, requestId: header(r, 'X-Request-Id'),
    cacheControl: header(r, 'Cache-Control'), csp: header(r, 'Content-Security-Policy')};

  // The admin adds products and pages through them with the Link header.
  const admin = await login('admin@shop.test');
  results.adminLogin = admin.r.status;
  results.created = [];
  for (const name of ['lamp', 'mug', 'kettle']) {
    r = await call('POST', '/v1/products', {token: admin.token,
      body: {name, description: 'd', price_cents: 1000, stock: 5}});
    results.created.push({status: r.status, id: r.json && r.json.id, location: header(r, 'Location'),
      resolved: resolve(r, header(r, 'Location')), etag: header(r, 'ETag')});
  }
  r = await call('GET', '/v1/products?limit=2');
  const next = resolve(r, linkTarget(header(r, 'Link'), 'next'));
  results.page1 = {status: r.status, items: r.json && r.json.items.length, link: header(r, 'Link'), next};
  r = await call('GET', next);
  results.page2 = {status: r.status, items: r.json && r.json.items.length};
  // The deprecated v0 alias: its announcements are readable.
  r = await call('GET', '/v0/products?limit=1');
  results.v0 = {status: r.status, deprecation: header(r, 'Deprecation'), sunset: header(r, 'Sunset'),
    successor: resolve(r, linkTarget(header(r, 'Link'), 'successor-version'))};

  // Conditional requests: a 304 for a fresh ETag, then optimistic locking.
  const lamp = results.created[0].resolved;
  r = await call('GET', lamp);
  const etag = header(r, 'ETag');
  results.get = {status: r.status, etag};
  r = await call('GET', lamp, {headers: {'If-None-Match': etag}});
  results.notModified = r.status;
  const update = {name: 'lamp', description: 'brighter', price_cents: 1200, stock: 5};
  results.putWithoutIfMatch = outcome(await call('PUT', lamp, {token: admin.token, body: update, probe: 'put'}));
  r = await call('PUT', lamp, {token: admin.token, body: update, headers: {'If-Match': etag}});
  results.put = {status: r.status, etag: header(r, 'ETag')};
  results.putStale = outcome(await call('PUT', lamp, {token: admin.token, body: update, headers: {'If-Match': etag}}));
  const kettle = results.created[2];
  results.delete = outcome(await call('DELETE', kettle.resolved, {token: admin.token, headers: {'If-Match': kettle.etag}}));

  // The customer orders, retries with the same Idempotency-Key, and reads
  // the order back through its Location.
  const order = {items: [{product_id: results.created[1].id, quantity: 2}]};
  const key = {'Idempotency-Key': 'browser-order-1'};
  r = await call('POST', '/v1/orders', {token: carol.token, body: order, headers: key});
  results.order = {status: r.status, id: r.json && r.json.id, state: r.json && r.json.status,
    location: header(r, 'Location'), resolved: resolve(r, header(r, 'Location'))};
  r = await call('POST', '/v1/orders', {token: carol.token, body: order, headers: key});
  results.orderReplay = {status: r.status, id: r.json && r.json.id, replayed: header(r, 'Idempotent-Replayed')};
  r = await call('GET', results.order.resolved, {token: carol.token});
  results.orderRead = {status: r.status, id: r.json && r.json.id};

  // What the browser refuses an allowed origin: a method and a header the
  // service does not allow, and credentials (the API takes no cookies).
  results.patch = outcome(await call('PATCH', lamp, {token: admin.token, body: update, probe: 'patch'}));
  results.customHeader = outcome(await call('GET', '/v1/me', {token: carol.token, headers: {'X-Debug': '1'}, probe: 'x-debug'}));
  results.credentials = outcome(await call('GET', lamp, {credentials: 'include', probe: 'credentials'}));
});
