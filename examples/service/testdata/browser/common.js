// Shared by the pages that TestBrowser drives. The API's base URL comes in
// the page's query string (?api=...); the results go into <pre id="results">
// as JSON, and a console marker tells the test that the page is done.
'use strict';

const api = new URL(new URLSearchParams(location.search).get('api'));
const results = {};

// call fetches path (relative to the API, or absolute) and returns what the
// script can see of the answer. A probe name is added to the URL so that
// the test can find the request in the browser's network log.
async function call(method, path, {token, body, headers = {}, probe, credentials} = {}) {
  const url = new URL(path, api);
  if (probe) url.searchParams.set('probe', probe);
  const h = new Headers(headers);
  if (token) h.set('Authorization', 'Bearer ' + token);
  const init = {method, headers: h};
  if (credentials) init.credentials = credentials;
  if (body !== undefined) {
    h.set('Content-Type', 'application/json');
    init.body = JSON.stringify(body);
  }
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    return {status: res.status, url: res.url, headers: res.headers, json};
  } catch (e) {
    // A network error: all a script ever learns of a CORS refusal.
    return {error: e.name};
  }
}

// header is what the script may read of a response header: null when the
// browser hides it.
function header(r, name) {
  return r.headers ? r.headers.get(name) : undefined;
}

// resolve resolves a relative Location or Link target against the URL of
// the response that carried it (RFC 3986 §5.1.3), never against the page.
function resolve(r, ref) {
  return ref ? new URL(ref, r.url).href : ref;
}

// linkTarget returns the target of the link with relation rel in a Link
// header value.
function linkTarget(value, rel) {
  for (const part of (value || '').split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?([^";]*)"?/);
    if (m && m[2] === rel) return m[1];
  }
  return null;
}

// outcome is the status of an answer, or the name of the error that
// replaced it.
function outcome(r) {
  return r.error ? r.error : r.status;
}

// run runs the page's flow, then always publishes the results.
async function run(name, flow) {
  try {
    await flow();
  } catch (e) {
    results.exception = String((e && e.stack) || e);
  } finally {
    const pre = document.getElementById('results');
    pre.textContent = JSON.stringify(results);
    pre.dataset.done = 'true';
    console.log('bedrock-browser-test:done:' + name);
  }
}
