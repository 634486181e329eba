// Where the panel gets its colleagues from: the roster (names, groups), each contact's vCard
// (XEP-0054) when one exists, and the presence the node sends, which it has already filtered to
// what this viewer may see (docs/ACCESS.md). Everything the lamps show comes from here, so an
// organization directory can replace the roster as the list of colleagues in this one module.

import { NS, bare, child, children } from "./xmpp.js";

export const AVAILABILITIES = ["available", "busy", "do_not_disturb", "away", "inactive", "offline"];
const LINE_STATES = ["idle", "ringing", "on_call", "out_of_order"];
/** The `lamp` attribute, for a viewer who sees lamps but no `<line/>`. */
const LAMP_TO_LINE = { free: "idle", ringing: "ringing", busy: "on_call", busy_ringing: "ringing", out_of_order: "out_of_order" };
/** Which of several lines the lamp shows: the one a caller most needs to know about. */
const LINE_RANK = { ringing: 4, on_call: 3, out_of_order: 2, idle: 1 };
const VCARD_NS = "vcard-temp";
const VCARD_PARALLEL = 4;

/** `<show/>` for a contact whose presence has no detail element (RFC 6121 §4.7.2.1). */
function fromShow(show) {
  switch (show) {
    case "dnd":
      return "do_not_disturb";
    case "away":
    case "xa":
      return "away";
    default:
      return "available";
  }
}

/** One received available presence, reduced to what the lamp can show. */
export function readPresence(el) {
  const d = child(el, "presence", NS.lampfield);
  const attr = (name) => d?.getAttribute(name) || null;
  let availability = attr("availability");
  if (!AVAILABILITIES.includes(availability) || availability === "offline") {
    availability = fromShow(child(el, "show")?.textContent.trim());
  }
  const lines = children(d, "line", NS.lampfield)
    .map((l) => ({ id: l.getAttribute("id") || "", state: l.getAttribute("state"), held: l.getAttribute("held") === "true" }))
    .filter((l) => LINE_STATES.includes(l.state));
  let line = "none";
  for (const l of lines) if ((LINE_RANK[l.state] || 0) > (LINE_RANK[line] || 0)) line = l.state;
  if (line === "none" && LAMP_TO_LINE[attr("lamp")]) line = LAMP_TO_LINE[attr("lamp")];
  const appointment = child(d, "appointment", NS.lampfield);
  return {
    availability,
    line,
    lines,
    status: child(el, "status")?.textContent.trim() || "",
    activity: attr("activity"),
    until: attr("until"),
    profile: attr("profile"),
    note: child(d, "note", NS.lampfield)?.textContent.trim() || "",
    devices: children(d, "device", NS.lampfield).map((x) => x.getAttribute("kind")),
    queues: children(d, "queue", NS.lampfield).map((q) => ({ id: q.getAttribute("id") || "", state: q.getAttribute("state") || "" })),
    appointment: appointment && {
      start: appointment.getAttribute("start"),
      end: appointment.getAttribute("end"),
      showAs: appointment.getAttribute("show-as"),
      subject: child(appointment, "subject", NS.lampfield)?.textContent || "",
    },
  };
}


function offline() {
  return { ...readPresence(null), availability: "offline" };
}

/** vCard fields the panel uses, or {} when the contact has none. */
function readVcard(iq) {
  const v = child(iq, "vCard", VCARD_NS);
  if (!v) return {};
  const text = (el) => el?.textContent.trim() || "";
  const tels = children(v, "TEL", VCARD_NS);
  const work = tels.find((t) => child(t, "WORK", VCARD_NS)) || tels[0];
  const org = child(v, "ORG", VCARD_NS);
  return {
    name: text(child(v, "FN", VCARD_NS)),
    org: text(child(org, "ORGNAME", VCARD_NS)),
    unit: text(child(org, "ORGUNIT", VCARD_NS)),
    phone: text(child(work, "NUMBER", VCARD_NS)),
    email: text(child(child(v, "EMAIL", VCARD_NS), "USERID", VCARD_NS)),
  };
}

/**
 * The colleagues this user sees. Fires `change` with `detail.jid` (one colleague changed) or
 * `detail.jid === null` (the list itself changed).
 */
export class Directory extends EventTarget {
  constructor(client) {
    super();
    this.client = client;
    this.people = new Map(); // bare JID -> { jid, rosterName, groups, vcard, resources: Map }
    // The user's own resources receive the user's presence too (at personal, docs/ACCESS.md).
    this.me = { jid: "", rosterName: "", groups: [], vcard: null, resources: new Map() };
    this.vcardQueue = [];
    this.vcardRunning = 0;
    client.addEventListener("presence", (e) => this.onPresence(e.detail));
    client.addEventListener("roster", (e) => this.onRoster(e.detail, false));
  }

  /** Fetch the roster (RFC 6121 §2.1.3). */
  async load() {
    const iq = await this.client.iq("get", null, `<query xmlns="${NS.roster}"/>`);
    this.onRoster(child(iq, "query", NS.roster), true);
  }

  onRoster(query, full) {
    const seen = new Set();
    for (const item of children(query, "item", NS.roster)) {
      const jid = bare(item.getAttribute("jid"));
      if (!jid || jid === bare(this.client.jid)) continue;
      if (item.getAttribute("subscription") === "remove") {
        this.people.delete(jid);
        continue;
      }
      seen.add(jid);
      const known = this.people.get(jid);
      const person = known || { jid, vcard: null, resources: new Map() };
      person.rosterName = item.getAttribute("name") || "";
      person.groups = children(item, "group", NS.roster).map((g) => g.textContent.trim()).filter(Boolean);
      this.people.set(jid, person);
      if (!known) this.askVcard(jid);
    }
    if (full) for (const jid of [...this.people.keys()]) if (!seen.has(jid)) this.people.delete(jid);
    this.changed(null);
  }

  onPresence(el) {
    const from = el.getAttribute("from") || "";
    const jid = bare(from);
    const own = jid === bare(this.client.jid);
    const person = own ? this.me : this.people.get(jid);
    if (!person) return;
    const type = el.getAttribute("type");
    const resource = from.includes("/") ? from.slice(from.indexOf("/") + 1) : "";
    if (type === "unavailable" || type === "error") {
      if (resource) person.resources.delete(resource);
      else person.resources.clear();
    } else if (!type) {
      const seen = readPresence(el);
      seen.at = performance.now();
      person.resources.set(resource, seen);
    } else {
      return; // subscription handshakes are not lamps
    }
    if (own) this.dispatchEvent(new CustomEvent("self"));
    else this.changed(jid);
  }

  askVcard(jid) {
    this.vcardQueue.push(jid);
    this.pumpVcards();
  }

  pumpVcards() {
    while (this.vcardRunning < VCARD_PARALLEL && this.vcardQueue.length) {
      const jid = this.vcardQueue.shift();
      this.vcardRunning++;
      this.client
        .iq("get", jid, `<vCard xmlns="${VCARD_NS}"/>`)
        .then(readVcard, () => ({}))
        .then((vcard) => {
          const person = this.people.get(jid);
          if (person) {
            person.vcard = vcard;
            if (Object.values(vcard).some(Boolean)) this.changed(jid);
          }
        })
        .finally(() => {
          this.vcardRunning--;
          this.pumpVcards();
        });
    }
  }

  changed(jid) {
    this.dispatchEvent(new CustomEvent("change", { detail: { jid } }));
  }

  /** Everything the lamp of `jid` shows, or null if it is not a colleague. */
  colleague(jid) {
    const person = this.people.get(jid);
    return person ? this.describe(person) : null;
  }

  /** The user's own presence as the node reports it, described like a colleague's. */
  self() {
    return this.describe({ ...this.me, jid: bare(this.client.jid) });
  }

  describe(person) {
    const jid = person.jid;
    let seen = null;
    for (const r of person.resources.values()) if (!seen || r.at > seen.at) seen = r;
    seen = seen || offline();
    const devices = [...person.resources.values()].flatMap((r) => r.devices);
    const vcard = person.vcard || {};
    const visibleLine = seen.lines.find((l) => /^[0-9*#+]+$/.test(l.id));
    return {
      ...seen,
      jid,
      name: vcard.name || person.rosterName || jid.split("@")[0],
      groups: vcard.unit ? [vcard.unit] : person.groups.length ? person.groups : ["Contacts"],
      extension: vcard.phone || visibleLine?.id || "",
      email: vcard.email || "",
      mobileOnly: devices.length > 0 && devices.every((k) => k === "mobile" || k === "phone"),
    };
  }

  jids() {
    return [...this.people.keys()];
  }
}

