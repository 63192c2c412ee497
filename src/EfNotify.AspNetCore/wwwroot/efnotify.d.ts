// Types of efnotify.js, the browser client of EfNotify. Checked by `tsc` in the tests (ClientTypesTests).
import type Pusher from 'pusher-js';
import type { Options } from 'pusher-js';

/** A key of an object: a number or a string, or an array of them (a composite key, in key order). */
export type Key = string | number | ReadonlyArray<string | number>;

/** A notification as browsers receive it. */
export interface Notification {
  /** The notification id (UUIDv7), stable across retries. */
  id: string;
  entity: string;
  key: Key;
  action: string;
  change: 'added' | 'modified' | 'deleted' | 'notified';
  /** When the change was committed (ISO 8601). */
  at: string;
  /** The user who made the change, when known. */
  by?: string;
  /** The changed dependent, for a notification sent to its principal (Via). */
  source?: { entity: string; key: Key };
  /** Property values, when the notification includes them (IncludeValues). */
  values?: Record<string, unknown>;
  /** With a coalescing window: how many changes this notification stands for (the latest one's data), when more than one. */
  merged?: number;
  /** Present when the data was shrunk to its minimal form. */
  truncated?: true;
  /** The channel and action's sequence number (1, 2, …) within epoch: a jump means a missed notification. */
  seq?: number;
  /** Which leading dispatcher numbered seq; a new epoch starts the count afresh. */
  epoch?: string;
  resync: false;
}

/** Called once after every reconnect, and once when seq shows a missed notification: refetch. */
export interface Resync {
  entity: string;
  /** The object's key; null for a list channel. */
  key: Key | null;
  action: string;
  resync: true;
}

/** Called once when access ended (the user's connections were closed and the channel was refused on the way back). */
export interface Revoked {
  entity: string;
  key: Key | null;
  action: string;
  revoked: true;
}

export type ListenCallback = (event: Notification | Resync | Revoked) => void;

/** A listener: ready settles when the subscription succeeds or is refused (403 from /pusher/auth); stop() removes it. */
export interface Subscription {
  ready: Promise<void>;
  stop(): void;
}

export interface Viewer {
  id: string;
  info: unknown;
}

export interface ConnectOptions {
  /** Where the connection settings come from. Default: '/pusher/key'. */
  keyUrl?: string;
  /** Extra pusher-js options, merged over the server's. */
  pusher?: Partial<Options>;
  /** Called when a subscription is refused (channel set), or an encrypted event cannot be decrypted (channel undefined). */
  onError?: (channel: string | undefined, error: unknown) => void;
}

/** The request part of an axios instance that installAxios needs (axios 0.27 and 1.x). */
export interface AxiosLike {
  interceptors: {
    request: {
      use(onFulfilled: (config: any) => any): number;
      eject(id: number): void;
    };
  };
}

export interface Connection {
  /** The underlying pusher-js instance. */
  readonly pusher: Pusher;
  /** The current socket id, or undefined while not connected. */
  readonly socketId: string | undefined;
  /** { 'X-Socket-ID': id }, or {} while not connected. */
  headers(): Record<string, string>;
  /** fetch() with the X-Socket-ID header. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Makes every same-origin window.fetch() carry X-Socket-ID; returns a function that undoes it. */
  installFetch(): () => void;
  /** Makes the same-origin requests of an axios instance carry X-Socket-ID; returns a function that removes the interceptor. */
  installAxios(axios: AxiosLike): () => void;
  /** Runs callback when the object gets the action. */
  listen(entity: string, key: Key, action: string, callback: ListenCallback): Subscription;
  /** Runs callback when any object of the entity's list channel gets the action. */
  listenList(entity: string, action: string, callback: ListenCallback): Subscription;
  /** Who else views the object (a presence channel authorized like the object's own). */
  viewers(entity: string, key: Key, onChange: (viewers: Viewer[]) => void): Subscription;
  /** Makes htmx's requests to this origin carry X-Socket-ID (its htmx:configRequest event); returns a function that removes it. */
  installHtmx(target?: EventTarget): () => void;
  /**
   * Makes the elements under root (default: the document) with data-efnotify="Entity:key:action" (an object) or
   * "Entity:*:action" (the list channel) receive EfNotifyEvent ("efnotify", bubbling), now and as they are added later;
   * elements naming the same channel share one listener. Sets data-efnotify-state to "ready", "refused", "revoked" or
   * "invalid". Returns a function that stops watching and listening.
   */
  watchElements(root?: Node): () => void;
  /** Closes the connection. */
  disconnect(): void;
}

/** The DOM event an element with data-efnotify receives: detail is what a listen() callback receives. */
export type EfNotifyEvent = CustomEvent<Notification | Resync | Revoked>;

declare global {
  interface HTMLElementEventMap {
    efnotify: EfNotifyEvent;
  }
}

/** Fetches the connection settings (GET /pusher/key) and connects with pusher-js. */
export function connect(options?: ConnectOptions): Promise<Connection>;

/** The channel of an object: private-{entity}.{key}, the key escaped as EfNotify's ChannelNames does. */
export function objectChannel(entity: string, key: Key, prefix?: string): string;

/** The channel of an entity type's list: private-{entity}. */
export function listChannel(entity: string): string;
