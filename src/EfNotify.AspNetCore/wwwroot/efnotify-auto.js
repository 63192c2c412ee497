// efnotify-auto.js: EfNotify for a page with no script of its own.
//
//   <script type="module" src="/_content/EfNotify.AspNetCore/efnotify-auto.js"></script>
//   <section data-efnotify="TaskCard:*:boardChanged" hx-get="/Board?handler=Tasks" hx-trigger="efnotify">…</section>
//
// Connects (GET /pusher/key), makes every element with data-efnotify receive "efnotify" DOM events, the ones htmx swaps
// in later too, and adds X-Socket-ID to htmx's requests. <html data-efnotify-connection="…"> follows the connection's
// state (connecting, connected, unavailable, …; "failed" when it could not start), for CSS.

import { connect } from './efnotify.js';

const root = document.documentElement;
try {
  const live = await connect({ onError: (channel, error) => console.warn('efnotify: refused', channel ?? '', error) });
  root.setAttribute('data-efnotify-connection', live.pusher.connection.state);
  live.pusher.connection.bind('state_change', ({ current }) => root.setAttribute('data-efnotify-connection', current));
  live.installHtmx();
  live.watchElements();
} catch (error) {
  root.setAttribute('data-efnotify-connection', 'failed');
  console.error(error);
}
