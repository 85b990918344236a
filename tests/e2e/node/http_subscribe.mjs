// Subscribes to announcementEvents over HTTP with a real client and prints each
// result as one JSON line, flushed at once (tests/e2e/test_http_subscriptions.py
// reads them): `sse` uses graphql-sse's client (distinct connections mode),
// `multipart` reads Apollo's multipart protocol with meros. It exits after
// `count` results, or when the stream ends (then it prints {"ended": true}).
//
// usage: node http_subscribe.mjs sse|multipart <graphql url> <region> <after or -> <count>
import { createClient } from 'graphql-sse';
import { meros } from 'meros/node';
import http from 'node:http';

const [protocol, url, region, afterArg, countArg] = process.argv.slice(2);
const after = afterArg === '-' ? null : afterArg;
const count = Number(countArg);
const query = `subscription ($region: String!, $after: String) {
  announcementEvents(region: $region, after: $after) {
    cursor kind announcement { id title }
  }
}`;
let seen = 0;

function print(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
  seen += 1;
  if (seen >= count) process.exit(0);
}

if (protocol === 'sse') {
  const client = createClient({ url, singleConnection: false, retryAttempts: 0 });
  const events = client.iterate({ query, variables: { region, after } });
  for await (const result of events) print(result);
} else if (protocol === 'multipart') {
  const body = JSON.stringify({ query, variables: { region, after } });
  const response = await new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
      },
    }, resolve);
    request.on('error', reject);
    request.end(body);
  });
  const parts = await meros(response);
  for await (const part of parts) {
    // {} is a heartbeat; {"payload": …} an event (Apollo's multipart protocol).
    if (part.json && part.body.payload !== undefined) print(part.body.payload);
  }
} else {
  console.error('usage: node http_subscribe.mjs sse|multipart <url> <region> <after|-> <count>');
  process.exit(2);
}
process.stdout.write(JSON.stringify({ ended: true }) + '\n');
