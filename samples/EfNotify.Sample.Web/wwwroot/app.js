import { connect } from '/_content/EfNotify.AspNetCore/efnotify.js';

const $ = id => document.getElementById(id);
const state = { me: null, room: null, roomListener: null, viewers: null, live: null };

async function api(path, init) {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (response.status === 401) {
    location.href = '/login.html';
    throw new Error('signed out');
  }
  if (!response.ok) {
    throw new Error(`${path}: ${response.status}`);
  }
  return response.status === 204 ? null : response.json();
}

function send(path, method, body) {
  return api(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

function toast(text) {
  const item = document.createElement('div');
  item.className = 'toast';
  item.textContent = text;
  $('toasts').append(item);
  setTimeout(() => item.remove(), 6000);
}

// Chat: the room's channel gets "newMessage" for every message added to it.
async function showMessages() {
  const messages = await api(`/api/rooms/${state.room}/messages`);
  $('messages').replaceChildren(...messages.map(messageItem));
  $('messages').scrollTop = $('messages').scrollHeight;
}

function messageItem(m) {
  const li = document.createElement('li');
  li.dataset.id = m.id;
  const author = document.createElement('b');
  author.textContent = m.author;
  li.append(author, document.createTextNode(m.text));
  return li;
}

async function openRoom(id) {
  state.roomListener?.stop();
  state.viewers?.stop();
  state.room = id;
  document.body.dataset.room = '';
  for (const b of $('rooms').children) {
    b.classList.toggle('current', Number(b.dataset.id) === id);
  }
  await showMessages();
  state.roomListener = state.live.listen('Room', id, 'newMessage', () => showMessages());
  state.viewers = state.live.viewers('Room', id, viewers => {
    $('viewers').textContent = 'Here now: ' + viewers.map(v => v.info?.name ?? v.id).join(', ');
  });
  try {
    await state.roomListener.ready;
    document.body.dataset.room = String(id); // tests wait for this: subscribed
  } catch {
    $('status').textContent = 'not allowed to listen to this room';
  }
}

// Asynchronous refresh: the board's list channel gets "boardChanged" for every task change.
async function showTasks() {
  const tasks = await api('/api/tasks');
  const rows = tasks.map(t => {
    const tr = document.createElement('tr');
    tr.dataset.id = t.id;
    const title = document.createElement('td');
    title.textContent = t.title;
    const status = document.createElement('td');
    const select = document.createElement('select');
    for (const s of ['todo', 'doing', 'done']) {
      select.append(new Option(s, s, false, s === t.status));
    }
    select.addEventListener('change', () => send(`/api/tasks/${t.id}`, 'PUT', { status: select.value }));
    status.append(select);
    const assignee = document.createElement('td');
    const who = document.createElement('select');
    for (const u of ['alice', 'bob', 'carol']) {
      who.append(new Option(u, u, false, u === t.assignee));
    }
    who.addEventListener('change', () => send(`/api/tasks/${t.id}`, 'PUT', { assignee: who.value }));
    assignee.append(who);
    const remind = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'remind';
    button.textContent = 'Remind';
    button.addEventListener('click', () => api(`/api/tasks/${t.id}/remind`, { method: 'POST' }));
    remind.append(button);
    tr.append(title, status, assignee, remind);
    return tr;
  });
  $('tasks').replaceChildren(...rows);
}

async function main() {
  state.me = (await api('/api/me')).name;
  $('me').textContent = `Signed in as ${state.me}`;

  state.live = await connect({ onError: channel => console.warn('efnotify: refused', channel) });
  state.live.installFetch(); // our own requests carry X-Socket-ID: this tab is not echoed its own changes
  state.live.pusher.connection.bind('state_change', ({ current }) => {
    $('status').textContent = current;
    $('status').classList.toggle('live', current === 'connected');
    document.body.dataset.connection = current;
  });

  $('send').addEventListener('submit', async e => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text) {
      return;
    }
    $('text').value = '';
    const message = await send(`/api/rooms/${state.room}/messages`, 'POST', { text });
    $('messages').append(messageItem(message)); // shown at once; the notification goes to the other tabs
  });

  const board = state.live.listenList('TaskCard', 'boardChanged', () => showTasks());
  // Notification: a change to a task assigned to me arrives on my own channel.
  const mine = state.live.listen('Person', state.me, 'assignedTaskChanged', e => {
    if (e.resync) {
      return;
    }
    toast(`${e.by ?? 'Someone'} changed a task assigned to you`);
  });

  // The "notify action": someone pressed "Remind" on a task assigned to me (db.Notify on the server).
  const reminded = state.live.listen('Person', state.me, 'reminded', e => {
    if (!e.resync) {
      toast(`${e.by ?? 'Someone'} reminds you of your tasks`);
    }
  });

  const rooms = await api('/api/rooms');
  $('rooms').replaceChildren(...rooms.map(r => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.id = r.id;
    b.textContent = r.name;
    b.addEventListener('click', () => openRoom(r.id));
    return b;
  }));
  await showTasks();
  const requested = Number(new URLSearchParams(location.search).get('room'));
  await openRoom(rooms.some(r => r.id === requested) ? requested : rooms[0].id);
  await Promise.allSettled([board.ready, mine.ready, reminded.ready]);
  document.body.dataset.ready = 'true';
}

main().catch(error => {
  $('status').textContent = String(error.message ?? error);
});
