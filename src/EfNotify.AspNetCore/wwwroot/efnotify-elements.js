// efnotify-elements.js: listening without JavaScript. An element with data-efnotify="Order:42:changed" (an object) or
// data-efnotify="Order:*:changed" (the entity's list channel) receives an "efnotify" DOM event (a bubbling CustomEvent
// whose detail is what a listen() callback receives: the message, or { resync: true }, or { revoked: true }) whenever
// that object gets that action. Several channels: separated by spaces. A composite key: a JSON array, "OrderLine:[7,2]:changed".
// Used through Connection.watchElements(); efnotify-auto.js does it for a page that has no script of its own.

export const EVENT = 'efnotify';
const ATTRIBUTE = 'data-efnotify';
const STATE = 'data-efnotify-state';

/**
 * Reads one channel of a data-efnotify attribute: "Entity:key:action", "Entity:*:action" for the list channel.
 * The entity is before the first colon, the action after the last, the key between (so it may hold colons).
 * Throws an Error naming the text when it is not of that form.
 */
export function parseElementChannel(text) {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  const entity = text.slice(0, first);
  const keyText = text.slice(first + 1, last);
  const action = text.slice(last + 1);
  if (first < 1 || last === first || keyText === '' || action === '') {
    throw new Error(`efnotify: ${ATTRIBUTE}="${text}" is not "Entity:key:action" (or "Entity:*:action" for the list)`);
  }
  if (keyText === '*') {
    return { entity, key: null, action };
  }
  if (keyText.startsWith('[')) {
    let key;
    try {
      key = JSON.parse(keyText);
    } catch {
      key = undefined;
    }
    if (!Array.isArray(key) || key.length === 0 || key.some(k => typeof k !== 'string' && typeof k !== 'number')) {
      throw new Error(`efnotify: ${ATTRIBUTE}="${text}": a composite key is a JSON array of strings and numbers, like [7,2]`);
    }
    return { entity, key, action };
  }
  return { entity, key: keyText, action };
}

/**
 * Makes the elements under root (and root) that have data-efnotify receive "efnotify" events, now and as they come and
 * go (a MutationObserver: htmx swaps, attribute changes). Elements naming the same channel share one listener (and the
 * connection one subscription); the last one removed stops it. data-efnotify-state tells how the listening goes:
 * "ready", "refused" (the server said no), "revoked" (access ended) or "invalid" (the attribute is malformed).
 * Returns a function that stops watching and listening.
 */
export function watchElements(connection, root = document) {
  const listeners = new Map(); // attribute channel text -> { subscription, elements, state }
  const watched = new Map(); // element -> its channel texts

  const setState = (elements, state) => {
    for (const element of elements) {
      element.setAttribute(STATE, state);
    }
  };

  const open = text => {
    const channel = parseElementChannel(text);
    const entry = { elements: new Set(), state: undefined };
    const deliver = detail => {
      if (detail.revoked) {
        listeners.delete(text); // the connection dropped this listener; an element added later asks again
        entry.state = 'revoked';
        setState(entry.elements, 'revoked');
      }
      for (const element of [...entry.elements]) {
        if (element.isConnected) {
          element.dispatchEvent(new CustomEvent(EVENT, { bubbles: true, detail }));
        }
      }
    };
    entry.subscription = channel.key === null
      ? connection.listenList(channel.entity, channel.action, deliver)
      : connection.listen(channel.entity, channel.key, channel.action, deliver);
    entry.subscription.ready.then(
      () => {
        entry.state ??= 'ready';
        setState(entry.elements, entry.state);
      },
      () => {
        if (listeners.get(text) === entry) {
          listeners.delete(text);
          entry.subscription.stop();
        }
        entry.state = 'refused';
        setState(entry.elements, 'refused');
      });
    listeners.set(text, entry);
    return entry;
  };

  const leave = (element, text) => {
    const entry = listeners.get(text);
    if (entry?.elements.delete(element) && entry.elements.size === 0) {
      listeners.delete(text);
      entry.subscription.stop();
    }
  };

  const untrack = element => {
    for (const text of watched.get(element) ?? []) {
      leave(element, text);
    }
    watched.delete(element);
  };

  const track = element => {
    const texts = [...new Set((element.getAttribute(ATTRIBUTE) ?? '').split(/\s+/).filter(t => t !== ''))];
    try {
      texts.forEach(parseElementChannel);
    } catch (error) {
      untrack(element);
      console.error(error.message, element);
      element.setAttribute(STATE, 'invalid');
      return;
    }
    const before = watched.get(element) ?? [];
    watched.set(element, texts);
    for (const text of texts) {
      const entry = listeners.get(text) ?? open(text);
      entry.elements.add(element);
      if (entry.state) {
        element.setAttribute(STATE, entry.state);
      }
    }
    // Channels the element no longer names are left after the new ones are joined: one it keeps is never reopened.
    before.filter(text => !texts.includes(text)).forEach(text => leave(element, text));
  };

  const within = node => {
    if (node.nodeType !== Node.ELEMENT_NODE) {
      return [];
    }
    const found = [...node.querySelectorAll(`[${ATTRIBUTE}]`)];
    return node.hasAttribute(ATTRIBUTE) ? [node, ...found] : found;
  };

  within(root.nodeType === Node.DOCUMENT_NODE ? root.documentElement : root).forEach(track);

  const observer = new MutationObserver(records => {
    // Additions first: an element swapped for one naming the same channel keeps the subscription open.
    for (const record of records) {
      if (record.type === 'attributes') {
        if (record.target.isConnected && record.target.hasAttribute(ATTRIBUTE)) {
          track(record.target);
        } else {
          untrack(record.target);
        }
      }
      for (const node of record.addedNodes) {
        within(node).filter(e => e.isConnected && !watched.has(e)).forEach(track);
      }
    }
    for (const record of records) {
      for (const node of record.removedNodes) {
        within(node).filter(e => !e.isConnected).forEach(untrack);
      }
    }
  });
  observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: [ATTRIBUTE] });

  return () => {
    observer.disconnect();
    for (const entry of listeners.values()) {
      entry.subscription.stop();
    }
    listeners.clear();
    watched.clear();
  };
}

/**
 * Adds X-Socket-ID to htmx's requests to this origin (its htmx:configRequest event), so the tab that made a change is
 * not sent its own notification: its own response already shows it. Returns a function that removes the handler.
 */
export function installHtmx(connection, target = document) {
  const handler = event => {
    const id = connection.socketId;
    const path = event.detail?.path;
    if (id && path !== undefined && new URL(path, location.href).origin === location.origin) {
      event.detail.headers['X-Socket-ID'] = id;
    }
  };
  target.addEventListener('htmx:configRequest', handler);
  return () => target.removeEventListener('htmx:configRequest', handler);
}
