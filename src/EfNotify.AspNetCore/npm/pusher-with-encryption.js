// In the npm package efnotify.js imports pusher-js's encryption build from its npm package, for private-encrypted-
// channels (the copy EfNotify.AspNetCore serves loads pusher-js's browser build instead).
export { default } from 'pusher-js/with-encryption';
