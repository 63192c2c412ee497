// A typed consumer of efnotify.js: ClientTypesTests runs `tsc --noEmit` on it. The @ts-expect-error lines prove the
// declarations are checked: each must be an error, or tsc fails.
import { connect, listChannel, objectChannel, type Connection, type EfNotifyEvent, type Notification, type Resync, type Revoked } from 'efnotify';

declare const axios: { interceptors: { request: { use(f: (config: any) => any): number; eject(id: number): void } } };

export async function start(): Promise<Connection> {
  const live = await connect({ keyUrl: '/pusher/key', pusher: { enableStats: false }, onError: (channel, error) => console.warn(channel, error) });
  const undoFetch: () => void = live.installFetch();
  const undoAxios: () => void = live.installAxios(axios);
  const socket: string | undefined = live.socketId;
  const headers: Record<string, string> = live.headers();

  const room = live.listen('Room', 42, 'newMessage', (event: Notification | Resync | Revoked) => {
    if ('revoked' in event) {
      console.log('access ended', event.entity, event.key);
    } else if (event.resync) {
      const key = event.key; // Key | null
      console.log('refetch', key);
    } else {
      const change: 'added' | 'modified' | 'deleted' | 'notified' = event.change;
      const seq: number | undefined = event.seq;
      console.log(event.id, event.at, event.by ?? 'unknown', change, event.values?.['Status'], seq);
    }
  });
  await room.ready;
  room.stop();
  live.listenList('Product', 'changed', () => undefined).stop();
  live.viewers('Order', ['eu', 7], viewers => console.log(viewers.map(v => v.id))).stop();
  const channels: string[] = [objectChannel('Order', [1, 'a b']), listChannel('Order')];
  live.pusher.connection.bind('state_change', () => undefined);
  console.log(undoFetch, undoAxios, socket, headers, channels);

  // Listening without JavaScript: data-efnotify elements get "efnotify" DOM events (issue 15).
  const stopWatching: () => void = live.watchElements(document.body);
  const undoHtmx: () => void = live.installHtmx();
  const board = document.createElement('section');
  board.addEventListener('efnotify', (event: EfNotifyEvent) => {
    const detail = event.detail;
    console.log('resync' in detail && detail.resync, 'revoked' in detail, detail.entity, detail.key);
  });
  board.addEventListener('efnotify', event => console.log(event.detail.action)); // typed by HTMLElementEventMap
  stopWatching();
  undoHtmx();

  // @ts-expect-error: a listener needs its callback
  live.listen('Room', 42, 'newMessage');
  // @ts-expect-error: a key is a number, a string or an array of them
  live.listen('Room', { id: 42 }, 'newMessage', () => undefined);
  // @ts-expect-error: watchElements takes a DOM node, not a selector
  live.watchElements('#board');
  // @ts-expect-error: connect's options have no such setting
  await connect({ pusherSrc: '/lib/pusher.min.js' });
  return live;
}
