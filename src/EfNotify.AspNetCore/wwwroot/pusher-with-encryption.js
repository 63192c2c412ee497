// pusher-js's encryption build as an ES module, for private-encrypted- channels (see pusher.js). Its browser build sets
// self.Pusher when it runs, replacing the plain build if that ran first. The npm package of efnotify replaces this
// file with a re-export of 'pusher-js/with-encryption'.
import './lib/pusher-with-encryption.min.js';

export default globalThis.Pusher;
