// A pusher-js subscriber for the topology test: connects to one soketi node, subscribes to the channels given and to a
// presence channel as the given user, and prints one JSON line per thing it sees (connection states, its socket id,
// events, presence members). Authorization is signed here with the app secret, as an application's /pusher/auth would.
// Usage: node subscriber.mjs <repository root> <port> <key> <secret> <user> <presence channel> <channel>...
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import path from 'node:path';

const [root, port, key, secret, user, presence, ...channels] = process.argv.slice(2);
const require = createRequire(path.join(root, 'package.json'));
const Pusher = require('pusher-js');
const print = line => process.stdout.write(JSON.stringify(line) + '\n');
const sign = text => `${key}:${createHmac('sha256', secret).update(text).digest('hex')}`;

const pusher = new Pusher(key, {
  cluster: 'mt1', wsHost: '127.0.0.1', wsPort: Number(port), forceTLS: false, enabledTransports: ['ws'], disableStats: true,
  channelAuthorization: {
    customHandler: ({ socketId, channelName }, callback) => {
      if (channelName.startsWith('presence-')) {
        const channelData = JSON.stringify({ user_id: user, user_info: { name: user } });
        callback(null, { auth: sign(`${socketId}:${channelName}:${channelData}`), channel_data: channelData });
      } else {
        callback(null, { auth: sign(`${socketId}:${channelName}`) });
      }
    },
  },
});

pusher.connection.bind('state_change', ({ current }) => print({ type: 'state', state: current, socket: pusher.connection.socket_id ?? null }));
for (const channel of channels) {
  const subscription = pusher.subscribe(channel);
  subscription.bind('pusher:subscription_succeeded', () => print({ type: 'subscribed', channel }));
  subscription.bind_global((name, data) => {
    if (!name.startsWith('pusher:')) {
      print({ type: 'event', channel, name, data: typeof data === 'string' ? data : JSON.stringify(data) });
    }
  });
}

const room = pusher.subscribe(presence);
const members = () => print({ type: 'members', channel: presence, ids: Object.keys(room.members.members).sort() });
room.bind('pusher:subscription_succeeded', () => { print({ type: 'subscribed', channel: presence }); members(); });
room.bind('pusher:member_added', members);
room.bind('pusher:member_removed', members);
process.stdin.on('end', () => process.exit(0)).resume();
