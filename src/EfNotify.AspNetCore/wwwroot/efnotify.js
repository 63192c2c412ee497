// efnotify.js: listen in the browser to the objects EfNotify notifies about.
//
//   import { connect } from '/_content/EfNotify.AspNetCore/efnotify.js';
//   const live = await connect();          // GET /pusher/key, then connects with pusher-js
//   live.installFetch();                   // your own fetch() calls carry X-Socket-ID: no echo to this tab
//   live.installAxios(axios);              // the same for an axios instance
//   const room = live.listen('Room', 42, 'newMessage', e => e.resync ? reloadAll() : append(e));
//   await room.ready;                      // subscribed (rejects when /pusher/auth refuses)
//   live.watchElements();                  // <div data-efnotify="Room:42:newMessage"> gets "efnotify" DOM events
//
// A callback receives the notification ({ id, entity, key, action, change, at, by, ... , resync: false }), or
// { entity, key, action, resync: true } once after every reconnect, and once when a message's sequence number shows that
// one before it was missed (dead-lettered or lost): refetch then,
// or { entity, key, action, revoked: true } once when access ended (the server closed the user's connections and the
// channel was refused on the way back): nothing more arrives for that listener.

import PlainPusher from './pusher.js';
import { installHtmx as installHtmxOn, watchElements as watchElementsUnder } from './efnotify-elements.js';

const SOCKET_HEADER = 'X-Socket-ID';
const SEEN_LIMIT = 1000;

/** Escapes one key part the way EfNotify's ChannelNames does: [A-Za-z0-9_@-] literal, other UTF-8 bytes as =XX. */
function escapeKeyPart(value) {
  const text = String(value);
  if (/^[A-Za-z0-9_@-]*$/.test(text)) {
    return text;
  }
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && /[A-Za-z0-9_@-]/.test(c) ? c : '=' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The channel of an object: private-{entity}.{key}; a composite key is an array, in key order. */
export function objectChannel(entity, key, prefix = 'private-') {
  const parts = Array.isArray(key) ? key : [key];
  return `${prefix}${entity}.${parts.map(escapeKeyPart).join(',')}`;
}

/** FNV-1a (32 bits) of a socket id's UTF-8 bytes as eight hex digits: how the dispatcher names a tab's own events in "own". */
export function socketHash(socketId) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(socketId ?? '')) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * Whether a message shows that events of its channel and action were missed since `last` ({ epoch, seq }): its "seq"
 * jumps, and the numbers skipped are not this tab's own changes (which the server never echoes to it; "own" lists them
 * by socketHash). Another epoch (a new dispatcher leads) or seq 1 starts the count afresh: no gap.
 */
export function sequenceGap(last, message, ownHash) {
  if (!last || typeof message.seq !== 'number' || message.epoch !== last.epoch || message.seq === 1 || message.seq <= last.seq + 1) {
    return false;
  }
  const own = new Set((message.own ?? []).filter(([, hash]) => hash === ownHash).map(([seq]) => seq));
  for (let seq = last.seq + 1; seq < message.seq; seq++) {
    if (!own.has(seq)) {
      return true;
    }
  }
  return false;
}

/** The channel of an entity type's list: private-{entity}. */
export function listChannel(entity) {
  return `private-${entity}`;
}

/**
 * Connects to Pusher (or soketi) with what the application's GET /pusher/key says.
 * @param {object} [options]
 * @param {string} [options.keyUrl='/pusher/key'] where the connection settings come from.
 * @param {object} [options.pusher] extra pusher-js options, merged over the server's.
 * @param {(channel: string, error: any) => void} [options.onError] called when a subscription is refused.
 */
export async function connect(options = {}) {
  const response = await fetch(options.keyUrl ?? '/pusher/key', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) {
    throw new Error(`efnotify: GET ${options.keyUrl ?? '/pusher/key'} answered ${response.status}`);
  }
  const settings = await response.json();
  // Encrypted channels need pusher-js's encryption build (tweetnacl inside), loaded only when the server uses them.
  const Pusher = settings.encryptedEntities ? (await import('./pusher-with-encryption.js')).default : PlainPusher;
  if (settings.encryptedEntities) {
    reportDecryptionFailures(Pusher, options.onError);
  }
  const pusher = new Pusher(settings.key, { ...settings.options, ...(options.pusher ?? {}) });
  signIn(pusher);
  reconnectWhenTerminated(pusher);
  return new Connection(pusher, { ...options, encryptedEntities: settings.encryptedEntities });
}

/** Signs the user in (pusher-js user authentication), so the application can close this user's connections. */
function signIn(pusher) {
  if (pusher.config?.userAuthenticator && typeof pusher.signin === 'function') {
    pusher.signin();
  }
}

/**
 * When the server closes the connection for the application (Pusher error 4009, as after a revocation), pusher-js gives
 * up; reconnect at once, so every channel is authorized again. Closes that follow within 10 s back off up to 30 s.
 */
function reconnectWhenTerminated(pusher) {
  let terminated = false;
  let lastAt = -Infinity;
  let attempts = 0;
  pusher.connection.bind('error', error => {
    if (error?.type === 'PusherError' && error.data?.code === 4009) {
      terminated = true;
    }
  });
  pusher.connection.bind('state_change', ({ current }) => {
    if (current === 'disconnected' && terminated) {
      terminated = false;
      attempts = Date.now() - lastAt < 10000 ? attempts + 1 : 0;
      lastAt = Date.now();
      setTimeout(() => pusher.connect(), attempts === 0 ? 0 : Math.min(30000, 1000 * 2 ** attempts));
    }
  });
}

const decryptionErrorHandlers = new Set();

/**
 * pusher-js only logs an event it cannot decrypt (another key) and drops it: make that visible, on the console and to
 * every connection's onError (pusher-js's log line does not say which connection or channel).
 */
function reportDecryptionFailures(Pusher, onError) {
  if (onError) {
    decryptionErrorHandlers.add(onError);
  }
  if (Pusher.efnotifyDecryptionWatch) {
    return;
  }
  Pusher.efnotifyDecryptionWatch = true;
  const previous = Pusher.log;
  Pusher.log = message => {
    previous?.(message);
    if (/Dropping encrypted event|Unexpected format for encrypted event|Expected encrypted event/.test(String(message))) {
      console.error(`efnotify: an encrypted event could not be decrypted and was dropped: ${message}`);
      for (const handler of decryptionErrorHandlers) {
        handler(undefined, { type: 'DecryptionError', message: String(message) });
      }
    }
  };
}

/** Whether the entity's channels are private-encrypted- ones (the server's /pusher/key says which). */
function isEncrypted(encryptedEntities, entity) {
  return encryptedEntities === '*' || (Array.isArray(encryptedEntities) && encryptedEntities.includes(entity));
}

/** Adds X-Socket-ID to an axios request config when it goes to this origin (others: no CORS preflight). */
function addSocketHeader(config, socketId) {
  const base = config.baseURL ? new URL(config.baseURL, location.href) : location.href;
  if (!socketId || new URL(config.url ?? '', base).origin !== location.origin) {
    return config;
  }
  if (typeof config.headers?.set === 'function') {
    config.headers.set(SOCKET_HEADER, socketId); // axios 1.x: AxiosHeaders
  } else {
    config.headers = { ...config.headers, [SOCKET_HEADER]: socketId };
  }
  return config;
}

class Connection {
  #pusher;
  #options;
  #channels = new Map();
  #seen = new Set();

  constructor(pusher, options) {
    this.#pusher = pusher;
    this.#options = options;
  }

  /** The underlying pusher-js instance. */
  get pusher() {
    return this.#pusher;
  }

  /** The current socket id, or undefined while not connected. */
  get socketId() {
    return this.#pusher.connection.socket_id;
  }

  /** The header that keeps this tab from receiving its own changes: { 'X-Socket-ID': id }, or {} while not connected. */
  headers() {
    const id = this.socketId;
    return id ? { [SOCKET_HEADER]: id } : {};
  }

  /** fetch() with the X-Socket-ID header. For XMLHttpRequest: xhr.setRequestHeader('X-Socket-ID', live.socketId). */
  fetch(input, init = {}) {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    for (const [name, value] of Object.entries(this.headers())) {
      headers.set(name, value);
    }
    return globalThis.fetch(input, { ...init, headers });
  }

  /** Makes every same-origin window.fetch() carry X-Socket-ID (other origins are left alone: no CORS preflight). */
  installFetch() {
    const original = globalThis.fetch.bind(globalThis);
    const connection = this;
    globalThis.fetch = function efnotifyFetch(input, init = {}) {
      const url = new URL(input instanceof Request ? input.url : String(input), location.href);
      if (url.origin !== location.origin || !connection.socketId) {
        return original(input, init);
      }
      const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
      headers.set(SOCKET_HEADER, connection.socketId);
      return original(input, { ...init, headers });
    };
    return () => {
      globalThis.fetch = original;
    };
  }

  /**
   * Makes the requests of an axios instance to this origin carry X-Socket-ID (a request interceptor); returns a function
   * that removes it.
   */
  installAxios(axios) {
    const connection = this;
    const id = axios.interceptors.request.use(config => addSocketHeader(config, connection.socketId));
    return () => axios.interceptors.request.eject(id);
  }

  /** Makes htmx's requests to this origin carry X-Socket-ID (htmx:configRequest); returns a function that removes it. */
  installHtmx(target = document) {
    return installHtmxOn(this, target);
  }

  /**
   * Makes the elements with data-efnotify="Entity:key:action" (or "Entity:*:action") under root receive "efnotify" DOM
   * events, those added later too (see efnotify-elements.js); returns a function that stops.
   */
  watchElements(root = document) {
    return watchElementsUnder(this, root);
  }

  /**
   * Runs callback when the object gets the action. Returns { ready, stop }: ready settles when the subscription
   * succeeds or is refused; stop() removes the listener.
   */
  listen(entity, key, action, callback) {
    return this.#add(objectChannel(entity, key, this.#prefix(entity)), { entity, key, action, callback });
  }

  /** Runs callback when any object of the entity's list channel gets the action. */
  listenList(entity, action, callback) {
    return this.#add(`${this.#prefix(entity)}${entity}`, { entity, key: null, action, callback });
  }

  #prefix(entity) {
    return isEncrypted(this.#options.encryptedEntities, entity) ? 'private-encrypted-' : 'private-';
  }

  /**
   * Who else views the object: calls onChange with [{ id, info }] whenever viewers come or go (a presence channel,
   * authorized like the object's own channel). Returns { ready, stop }.
   */
  viewers(entity, key, onChange) {
    const name = objectChannel(entity, key, 'presence-');
    const channel = this.#pusher.subscribe(name);
    const report = () => {
      const list = [];
      channel.members.each(m => list.push({ id: m.id, info: m.info }));
      onChange(list);
    };
    const ready = new Promise((resolve, reject) => {
      channel.bind('pusher:subscription_succeeded', () => {
        report();
        resolve();
      });
      channel.bind('pusher:subscription_error', error => {
        this.#options.onError?.(name, error);
        reject(error);
      });
    });
    channel.bind('pusher:member_added', report);
    channel.bind('pusher:member_removed', report);
    ready.catch(() => {});
    return { ready, stop: () => this.#pusher.unsubscribe(name) };
  }

  /** Closes the connection. */
  disconnect() {
    this.#pusher.disconnect();
    this.#channels.clear();
  }

  #add(name, listener) {
    let state = this.#channels.get(name);
    if (!state) {
      state = this.#subscribe(name);
      this.#channels.set(name, state);
    }
    const entry = { ...listener };
    state.listeners.add(entry);
    if (!state.actions.has(listener.action)) {
      state.actions.add(listener.action);
      state.channel.bind(listener.action, data => this.#deliver(state, listener.action, data));
    }
    return {
      ready: state.ready,
      stop: () => {
        state.listeners.delete(entry);
        if (state.listeners.size === 0) {
          this.#pusher.unsubscribe(name);
          this.#channels.delete(name);
        }
      },
    };
  }

  #subscribe(name) {
    const channel = this.#pusher.subscribe(name);
    const state = { channel, listeners: new Set(), actions: new Set(), subscribedBefore: false, sequences: new Map() };
    state.ready = new Promise((resolve, reject) => {
      channel.bind('pusher:subscription_succeeded', () => {
        // pusher-js subscribes again after every reconnect: what happened in between was not received.
        if (state.subscribedBefore) {
          state.sequences.clear();
          for (const l of [...state.listeners]) {
            l.callback({ entity: l.entity, key: l.key, action: l.action, resync: true });
          }
        }
        state.subscribedBefore = true;
        resolve();
      });
      channel.bind('pusher:subscription_error', error => {
        this.#options.onError?.(name, error);
        if (state.subscribedBefore) {
          this.#revoke(name, state);
        }
        reject(error);
      });
    });
    state.ready.catch(() => {});
    return state;
  }

  /** A channel refused after it was granted: access ended. Tell each listener once and stop asking. */
  #revoke(name, state) {
    this.#pusher.unsubscribe(name);
    if (this.#channels.get(name) === state) {
      this.#channels.delete(name);
    }
    for (const l of [...state.listeners]) {
      l.callback({ entity: l.entity, key: l.key, action: l.action, revoked: true });
    }
    state.listeners.clear();
  }

  #deliver(state, action, data) {
    const message = typeof data === 'string' ? JSON.parse(data) : data;
    if (message?.id) {
      if (this.#seen.has(message.id)) {
        return; // the dispatcher delivers at least once; the id is stable across retries
      }
      this.#seen.add(message.id);
      if (this.#seen.size > SEEN_LIMIT) {
        this.#seen.delete(this.#seen.values().next().value);
      }
    }
    const gap = this.#followSequence(state, action, message);
    for (const l of [...state.listeners]) {
      if (l.action === action) {
        if (gap) {
          l.callback({ entity: l.entity, key: l.key, action, resync: true }); // an event was missed: refetch
        }
        l.callback({ ...message, resync: false });
      }
    }
  }

  /** Notes the message's sequence number; returns whether events before it were missed (see sequenceGap). */
  #followSequence(state, action, message) {
    if (typeof message?.seq !== 'number') {
      return false;
    }
    const last = state.sequences.get(action);
    const gap = sequenceGap(last, message, socketHash(this.socketId));
    if (!last || message.epoch !== last.epoch || message.seq === 1 || message.seq > last.seq) {
      state.sequences.set(action, { epoch: message.epoch, seq: message.seq });
    }
    return gap;
  }
}
