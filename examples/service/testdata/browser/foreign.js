// A page on an origin the service does not list: it must read nothing.
'use strict';

run('foreign', async () => {
  // A simple GET reaches the service, but its answer names no origin.
  results.get = outcome(await call('GET', '/v1/products', {probe: 'foreign-get'}));
  // A JSON login needs a preflight, which the service refuses bare.
  results.login = outcome(await call('POST', '/v1/auth/login',
    {body: {email: 'carol@shop.test', password: 'correct horse battery'}, probe: 'foreign-login'}));
  // no-cors would give an opaque answer; Cross-Origin-Resource-Policy
  // refuses even that.
  try {
    const res = await fetch(new URL('/v1/products?probe=foreign-no-cors', api), {mode: 'no-cors'});
    results.noCors = res.type;
  } catch (e) {
    results.noCors = e.name;
  }
});
