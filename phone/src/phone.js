// The Centrex browser phone: JsSIP over SIP-over-WebSocket (RFC 7118) to `centrex serve`'s WS port.
// Media is WebRTC (DTLS-SRTP + ICE); the switch bridges it to plain RTP through rtpengine.
// Signed in to the portal (its session cookie or API token in this tab), the page asks the API for
// the user's own browser-phone device (POST /me/softphone: a device record of its own, with its own
// SIP password) and registers with it at once; otherwise a form takes a line's SIP credentials.
import JsSIP from "jssip";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
for (const name of ["server", "user", "domain"]) if (params.get(name)) $(name).value = params.get(name);
if (!$("domain").value) $("domain").value = location.hostname;
if (params.get("debug")) JsSIP.debug.enable("JsSIP:*"); // the SIP messages in the console

// What a test (or a curious user) can read: the phone's state and what happened, in order.
const phone = { registration: "unregistered", call: "idle", held: false, media: "new", events: [] };
window.centrexPhone = phone;
// The media path's figures (ICE pair, DTLS, packets and codec) for tests and support.
phone.stats = async () => {
  if (!session || !session.connection) return [];
  const report = await session.connection.getStats();
  const wanted = ["candidate-pair", "transport", "outbound-rtp", "inbound-rtp", "local-candidate", "remote-candidate", "codec"];
  return [...report.values()].filter((s) => wanted.includes(s.type));
};

let ua = null;
let session = null;

function log(text) {
  phone.events.push(text);
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(li);
}

function setRegistration(state, label) {
  phone.registration = state;
  $("reg-state").dataset.state = state;
  $("reg-state").textContent = label;
  const on = state === "registered";
  $("login").classList.toggle("signed-in", ua !== null);
  $("identity").textContent = ua ? `${$("user").value}@${$("domain").value}` : "";
  $("call").disabled = !on || session !== null;
  $("unregister").disabled = ua === null;
  $("register").disabled = ua !== null;
}

function setCall(state, label) {
  phone.call = state;
  $("call-state").dataset.state = state;
  $("call-state").textContent = label;
  const live = state === "confirmed";
  $("hangup").disabled = session === null;
  $("answer").disabled = state !== "incoming";
  $("answer").hidden = state !== "incoming";
  $("hold").disabled = !live;
  $("transfer-go").disabled = !live;
  for (const b of $("keypad").querySelectorAll("button")) b.disabled = !live;
  $("call").disabled = phone.registration !== "registered" || session !== null;
}

function renderHold() {
  $("hold").setAttribute("aria-pressed", String(phone.held));
  $("hold").textContent = phone.held ? "Resume" : "Hold";
  if (session && phone.call === "confirmed") {
    $("call-state").textContent = phone.held ? "On hold" : `In call with ${phone.peer}`;
  }
}

function attachAudio(pc) {
  pc.addEventListener("connectionstatechange", () => {
    phone.media = pc.connectionState; // ICE + DTLS to the switch's media gateway
    log(`media ${pc.connectionState}`);
  });
  const play = () => {
    const stream = new MediaStream();
    for (const r of pc.getReceivers()) if (r.track) stream.addTrack(r.track);
    $("remote").srcObject = stream;
  };
  pc.addEventListener("track", play);
  play();
}

function track(s, direction) {
  session = s;
  phone.held = false;
  renderHold();
  const who = direction === "incoming" ? s.remote_identity.uri.user : $("target").value;
  phone.peer = who;
  setCall(direction === "incoming" ? "incoming" : "calling", direction === "incoming" ? `Incoming call from ${who}` : `Calling ${who}…`);
  if (s.connection) attachAudio(s.connection);
  s.on("peerconnection", (e) => attachAudio(e.peerconnection));
  s.on("progress", () => { if (direction === "outgoing") setCall("ringing", `Ringing ${who}…`); });
  s.on("accepted", () => log(`${direction} call answered`));
  s.on("confirmed", () => { setCall("confirmed", `In call with ${who}`); log("call confirmed"); });
  s.on("hold", () => { phone.held = true; renderHold(); log("held"); });
  s.on("unhold", () => { phone.held = false; renderHold(); log("resumed"); });
  s.on("newDTMF", (e) => { if (e.originator === "local") log(`DTMF ${e.dtmf.tone}`); }); // SIP INFO
  s.on("refer", () => log("refer received"));
  const end = (why) => () => {
    session = null;
    setCall("idle", "Idle");
    log(why);
  };
  s.on("ended", end("call ended"));
  s.on("failed", (e) => end(`call failed: ${e.cause}`)());
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const socket = new JsSIP.WebSocketInterface($("server").value);
  ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${$("user").value}@${$("domain").value}`,
    password: $("password").value,
    display_name: $("user").value,
    register: true,
    session_timers: false,
    user_agent: "Centrex Phone (JsSIP)",
  });
  ua.on("connecting", () => setRegistration("connecting", "Connecting…"));
  ua.on("registered", () => { setRegistration("registered", "Registered"); log("registered"); });
  ua.on("unregistered", () => setRegistration("unregistered", "Not registered"));
  ua.on("registrationFailed", (e) => { setRegistration("failed", `Registration failed: ${e.cause}`); log(`registration failed: ${e.cause}`); });
  ua.on("disconnected", () => { if (phone.registration === "registered") setRegistration("connecting", "Reconnecting…"); });
  ua.on("newRTCSession", (e) => {
    if (session !== null && e.originator === "remote") {
      e.session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    if (e.originator === "remote") { track(e.session, "incoming"); log(`incoming call from ${e.session.remote_identity.uri.user}`); }
  });
  ua.start();
  setRegistration("connecting", "Connecting…");
});

$("unregister").addEventListener("click", () => {
  if (ua) { ua.stop(); ua = null; }
  setRegistration("unregistered", "Not registered");
});

const mediaOptions = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] }, rtcOfferConstraints: { offerToReceiveAudio: true } };

$("dial").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const target = $("target").value.trim();
  if (!ua || !target || session) return;
  const s = ua.call(`sip:${target}@${$("domain").value}`, mediaOptions);
  track(s, "outgoing");
  log(`calling ${target}`);
});

$("answer").addEventListener("click", () => { if (session) session.answer(mediaOptions); });
$("hangup").addEventListener("click", () => { if (session) session.terminate(); });
$("hold").addEventListener("click", () => {
  if (!session) return;
  // A re-INVITE with a=sendonly (RFC 3264 §8.4); the button follows when the far side agreed.
  if (phone.held) session.unhold(); else session.hold();
});
$("transfer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const target = $("transfer-target").value.trim();
  if (!session || !target) return;
  session.refer(`sip:${target}@${$("domain").value}`); // blind transfer (RFC 3515)
  log(`transfer to ${target}`);
});
// DTMF as RFC 4733 telephone-events in the media (the browser's RTCDTMFSender), not SIP INFO.
const watched = new WeakSet();
function watchDtmf(s) {
  // Each tone the browser's RTCDTMFSender actually starts playing into the RTP stream.
  const sender = s.connection && s.connection.getSenders().find((x) => x.track && x.track.kind === "audio");
  if (sender && sender.dtmf && !watched.has(sender.dtmf)) {
    watched.add(sender.dtmf);
    sender.dtmf.addEventListener("tonechange", (e) => { if (e.tone) log(`DTMF ${e.tone}`); });
  }
}
$("keypad").addEventListener("click", (ev) => {
  const tone = ev.target.dataset && ev.target.dataset.tone;
  if (!tone || !session) return;
  watchDtmf(session);
  session.sendDTMF(tone, { transportType: "RFC2833", duration: 160, interToneGap: 100 });
});

setRegistration("unregistered", "Not registered");
setCall("idle", "Idle");

// --- the portal's user: their own browser-phone device -------------------------------------------
function apiHeaders(method) {
  const h = { Accept: "application/json" };
  const token = sessionStorage.getItem("centrex.token"); // the portal's API-token sign-in
  if (token) h.Authorization = `Bearer ${token}`;
  const csrf = document.cookie.match(/(?:^|;\s*)centrex_csrf=([^;]+)/);
  if (csrf && method !== "GET") h["X-CSRF-Token"] = decodeURIComponent(csrf[1]);
  return h;
}

async function fromPortal() {
  phone.portal = "checking";
  const who = await fetch("/api/v1/auth/me", { headers: apiHeaders("GET"), credentials: "same-origin" });
  if (!who.ok) { phone.portal = "signed-out"; return; }
  const me = await who.json();
  if (me.kind !== "user" || !me.tenant_id) { phone.portal = "not-a-user"; return; }
  const r = await fetch(`/api/v1/tenants/${me.tenant_id}/me/softphone`, {
    method: "POST", headers: apiHeaders("POST"), credentials: "same-origin",
  });
  if (!r.ok) { phone.portal = `refused ${r.status}`; log(`browser phone refused: ${r.status}`); return; }
  const dev = await r.json();
  const server = params.get("server") || (location.protocol === "https:" ? dev.wss_url : dev.ws_url || dev.wss_url);
  if (!server) { phone.portal = "no-websocket"; log("SIP over WebSocket is off on this server"); return; }
  $("server").value = server;
  $("user").value = dev.sip_username;
  $("domain").value = dev.sip_domain;
  $("password").value = dev.sip_password;
  phone.device = { id: dev.device_id, sip_username: dev.sip_username };
  phone.portal = "ready";
  log(`browser phone ${dev.sip_username} (${me.name})`);
  $("login").requestSubmit();
}

if (!params.get("password") && params.get("portal") !== "0") {
  fromPortal().catch((e) => { phone.portal = "error"; log(`portal: ${e}`); });
}
