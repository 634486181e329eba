// The panel's entry point: the login form, then the lamp field, the filters and the user's own
// presence. All data comes over XMPP on the node's WebSocket (xmpp.js, directory.js).

import { Client } from "./xmpp.js";
import { Directory } from "./directory.js";
import { AVAILABILITY, Field } from "./lamps.js";
import { Own } from "./own.js";

const $ = (id) => document.getElementById(id);

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/xmpp-websocket`;
}

let client = null;

async function login(e) {
  e.preventDefault();
  const form = $("login-form");
  const jid = form.elements.jid.value.trim();
  const password = form.elements.password.value;
  const error = $("login-error");
  error.textContent = "";
  form.elements.submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  client = new Client(socketUrl());
  try {
    const bound = await client.connect(jid, password);
    form.elements.password.value = "";
    start(bound);
  } catch (err) {
    client.close();
    client = null;
    error.textContent = err.message || String(err);
  } finally {
    form.elements.submit.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

async function start(bound) {
  const directory = new Directory(client);
  const field = new Field($("field"), directory, $("count"));
  const own = new Own(client, directory, {
    presenceForm: $("presence-form"),
    profileForm: $("profile-form"),
    ruleForm: $("rule-form"),
    rulesList: $("rules"),
    output: $("own-output"),
  });
  client.addEventListener("closed", () => {
    $("connection").textContent = "Disconnected from the node. Reload the page to log in again.";
    $("connection").hidden = false;
  });
  $("login").hidden = true;
  $("panel").hidden = false;
  $("me").textContent = `Logged in as ${bound.split("/")[0]}`;
  $("me").setAttribute("aria-live", "polite");
  $("logout").hidden = false;
  const search = $("search");
  const availableNow = $("available-now");
  const filter = () => field.setFilter(search.value, availableNow.checked);
  search.addEventListener("input", filter);
  search.addEventListener("keydown", (e) => {
    // Escape clears the search and goes back to the colleagues.
    if (e.key === "Escape" && search.value) {
      search.value = "";
      filter();
      $("field").querySelector('.lamp[tabindex="0"]')?.focus();
    }
  });
  availableNow.addEventListener("change", filter);
  $("field").addEventListener("typeahead", (e) => {
    search.value += e.detail;
    search.focus();
    filter();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName)) {
      e.preventDefault();
      search.focus();
    }
  });
  const me = bound.split("/")[0];
  directory.addEventListener("self", () => {
    const self = directory.self();
    const label = AVAILABILITY[self.availability]?.label || "";
    $("me").textContent = [`Logged in as ${me}`, label, self.status || self.note].filter(Boolean).join(" · ");
  });
  await directory.load();
  field.rebuild();
  // Initial presence (RFC 6121 §4.2): the node then sends the contacts' presence. A web client.
  client.raw(`<presence xmlns="jabber:client"><device xmlns="urn:lampfield:presence:0" kind="web"/></presence>`);
  document.body.dataset.mechanism = client.mechanism;
  document.body.dataset.state = "ready";
  await own.load();
}

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", () => {
  if (client) client.close();
  location.reload();
});
