// Smoke check for eng/demo.sh --smoke: proves the running sample delivers a chat message end to end.
// alice, bob and carol sign in; bob (a member of room 2) subscribes and receives alice's message; alice's own
// connection, named in X-Socket-ID, is not echoed; carol (not a member) is refused by /pusher/auth.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Pusher = require('pusher-js');
const base = process.argv[2];
const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());

async function signIn(user) {
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user, password: 'demo' }),
  });
  const cookie = response.headers.getSetCookie().map(c => c.split(';')[0]).join('; ');
  if (!cookie) {
    throw new Error(`${user} could not sign in (${response.status})`);
  }
  return cookie;
}

const statuses = new Map();

async function connectAs(cookie) {
  const settings = await (await fetch(`${base}/pusher/key`)).json();
  const pusher = new Pusher(settings.key, {
    ...settings.options,
    channelAuthorization: {
      customHandler: async ({ socketId, channelName }, callback) => {
        const response = await fetch(`${base}/pusher/auth`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
          body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }),
        });
        statuses.set(`${cookie}|${channelName}`, response.status);
        if (response.ok) {
          callback(null, await response.json());
        } else {
          callback(new Error(`auth answered ${response.status}`), { status: response.status });
        }
      },
    },
  });
  await Promise.race([
    new Promise(resolve => pusher.connection.bind('connected', resolve)),
    deadline(15000, 'connecting to the Pusher server'),
  ]);
  return pusher;
}

function subscribe(pusher, channel) {
  const subscription = pusher.subscribe(channel);
  const result = new Promise(resolve => {
    subscription.bind('pusher:subscription_succeeded', () => resolve('subscribed'));
    subscription.bind('pusher:subscription_error', error => resolve('refused'));
  });
  return { subscription, result: Promise.race([result, deadline(15000, `subscribing to ${channel}`)]) };
}

const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(signIn));
const [alicePusher, bobPusher, carolPusher] = await Promise.all([alice, bob, carol].map(connectAs));
const channel = 'private-Room.2';

const bobs = subscribe(bobPusher, channel);
const alices = subscribe(alicePusher, channel);
const carols = subscribe(carolPusher, channel);
const carolStatus = (await carols.result) === 'subscribed' ? 200 : statuses.get(`${carol}|${channel}`);
console.log(`smoke: bob ${await bobs.result}, alice ${await alices.result}, carol refused with ${carolStatus}`);
if ((await bobs.result) !== 'subscribed' || (await alices.result) !== 'subscribed' || carolStatus !== 403) {
  throw new Error('unexpected subscription results');
}

const echoes = [];
alices.subscription.bind('newMessage', data => echoes.push(data));
const received = new Promise(resolve => bobs.subscription.bind('newMessage', resolve));
const text = `smoke ${Date.now()}`;
const posted = await fetch(`${base}/api/rooms/2/messages`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Cookie: alice, 'X-Socket-ID': alicePusher.connection.socket_id },
  body: JSON.stringify({ text }),
});
if (!posted.ok) {
  throw new Error(`posting the message answered ${posted.status}`);
}

const message = await Promise.race([received, deadline(15000, 'bob receiving the message')]);
console.log(`smoke: bob received ${JSON.stringify(message)}`);
if (message.by !== 'alice' || message.entity !== 'Room' || message.key !== 2) {
  throw new Error('the message is not the one alice posted');
}

// A later message from carol's side would be a sentinel; here the room's traffic is ours alone, so a short wait suffices.
await new Promise(resolve => setTimeout(resolve, 500));
if (echoes.length > 0) {
  throw new Error("alice's own connection received her message (X-Socket-ID not honoured)");
}

for (const p of [alicePusher, bobPusher, carolPusher]) {
  p.disconnect();
}
console.log('smoke: ok');
process.exit(0);
