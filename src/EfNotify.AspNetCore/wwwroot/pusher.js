// pusher-js as an ES module, for efnotify.js in the browser without a bundler. Its browser build
// (lib/pusher.min.js, copied from the npm package at build time) sets self.Pusher when it runs; as a module it runs
// before this one, once. The npm package of efnotify replaces this file with a re-export of 'pusher-js'.
import './lib/pusher.min.js';

export default globalThis.Pusher;
