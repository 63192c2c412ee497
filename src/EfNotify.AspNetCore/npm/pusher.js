// In the npm package efnotify.js imports pusher-js from its npm package (the copy EfNotify.AspNetCore serves beside
// efnotify.js loads pusher-js's browser build instead).
export { default } from 'pusher-js';
