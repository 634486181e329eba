// The lamp field: one lamp per colleague, grouped, patched in place as presence arrives (no
// re-render of the whole field for one change). Each lamp says its state in text and with an
// icon as well as by colour, and carries data-jid, data-availability and data-line for tests
// and integrators (docs/PANEL.md).

export const AVAILABILITY = {
  available: { label: "Available", icon: "✓" },
  busy: { label: "Busy", icon: "●" },
  do_not_disturb: { label: "Do not disturb", icon: "⛔" },
  away: { label: "Away", icon: "◔" },
  inactive: { label: "Inactive", icon: "☾" },
  offline: { label: "Offline", icon: "○" },
};
const LINE = {
  none: null,
  idle: { label: "Line free", icon: "☏" },
  ringing: { label: "Ringing", icon: "☎" },
  on_call: { label: "On the phone", icon: "☎" },
  out_of_order: { label: "Line out of order", icon: "⚠" },
};
const QUEUE = { logged_out: "logged out", logged_in: "logged in", available: "available", unavailable: "unavailable", wrap_up: "wrap-up" };

function time(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === now.toDateString() ? hm : `${d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" })} ${hm}`;
}

/** The text pieces of one lamp, in reading order; the aria-label joins them. */
function describe(c) {
  const a = AVAILABILITY[c.availability] || AVAILABILITY.offline;
  const line = LINE[c.line];
  const chips = [];
  // The node's status line is English prose of the same state; say only what it adds.
  let status = c.status || c.note;
  if (status === a.label || (line && status === line.label)) status = "";
  if (c.until && !/\buntil\b/i.test(status)) chips.push(`Until ${time(c.until)}`);
  const ap = c.appointment;
  if (ap && ap.end && ap.showAs !== "tentative" && !/meeting|out of office/i.test(status)) {
    const what = ap.showAs === "out_of_office" ? "Out of office" : "In a meeting";
    chips.push(`${what} until ${time(ap.end)}${ap.subject ? ` (${ap.subject})` : ""}`);
  }
  if (c.mobileOnly) chips.push("Mobile only");
  for (const q of c.queues) chips.push(`Queue ${q.id}: ${QUEUE[q.state] || q.state}`);
  if (c.profile) chips.push(`Profile: ${c.profile}`);
  return { a, line, status, chips };
}

/** Write only what changed: with a thousand lamps most updates leave most of a lamp as it was. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class Field {
  constructor(root, directory, countEl) {
    this.root = root;
    this.directory = directory;
    this.countEl = countEl;
    this.lamps = new Map(); // jid -> li
    this.groups = new Map(); // name -> { section, list }
    this.query = "";
    this.availableOnly = false;
    directory.addEventListener("change", (e) => (e.detail.jid ? this.update(e.detail.jid) : this.rebuild()));
    root.addEventListener("keydown", (e) => this.onKey(e));
    root.addEventListener("focusin", (e) => {
      const lamp = e.target.closest?.(".lamp");
      if (lamp) this.setTabStop(lamp);
    });
  }

  /** Lay out every colleague again, by group and name (the list of colleagues changed). */
  rebuild() {
    const all = this.directory.jids().map((j) => this.directory.colleague(j)).filter(Boolean);
    all.sort((x, y) => x.groups[0].localeCompare(y.groups[0]) || x.name.localeCompare(y.name));
    const present = new Set(all.map((c) => c.jid));
    for (const [jid, li] of this.lamps) if (!present.has(jid)) { li.remove(); this.lamps.delete(jid); }
    for (const c of all) {
      const g = this.group(c.groups[0]);
      const li = this.lamps.get(c.jid) || this.create(c.jid);
      g.list.append(li); // appending in sorted order keeps each group sorted
      this.paint(li, c);
    }
    for (const [name, g] of this.groups) {
      if (!g.list.children.length) { g.section.remove(); this.groups.delete(name); }
    }
    const order = [...this.groups.keys()].sort((x, y) => x.localeCompare(y));
    for (const name of order) this.root.append(this.groups.get(name).section);
    this.applyFilter();
  }

  group(name) {
    let g = this.groups.get(name);
    if (!g) {
      const section = el("section", "group");
      const id = `group-${this.groups.size}-${Math.random().toString(36).slice(2, 6)}`;
      const h = el("h2", "group-name", name);
      h.id = id;
      section.setAttribute("aria-labelledby", id);
      const list = el("ul", "lamps");
      section.append(h, list);
      g = { section, list };
      this.groups.set(name, g);
    }
    return g;
  }

  create(jid) {
    const li = el("li", "lamp");
    li.dataset.jid = jid;
    li.tabIndex = -1;
    const head = el("div", "lamp-head");
    head.append(el("span", "icon"), el("span", "name"));
    const state = el("div", "state");
    state.append(el("span", "label"), el("span", "line-label"));
    const contact = el("div", "contact");
    const call = el("a", "call");
    call.tabIndex = -1; // the lamp is the tab stop; Enter on it calls
    call.hidden = true;
    contact.append(el("span", "ext"), call);
    li.append(head, state, el("div", "status"), el("ul", "chips"), contact);
    li.querySelector(".icon").setAttribute("aria-hidden", "true");
    this.lamps.set(jid, li);
    return li;
  }

  /** One colleague's presence changed: patch that lamp only. */
  update(jid) {
    const c = this.directory.colleague(jid);
    const li = this.lamps.get(jid);
    if (!c || !li) return this.rebuild();
    if (li.closest(".group") !== this.groups.get(c.groups[0])?.section) return this.rebuild();
    this.paint(li, c);
    this.filterOne(li);
  }

  paint(li, c) {
    const { a, line, status, chips } = describe(c);
    setAttr(li, "data-availability", c.availability);
    setAttr(li, "data-line", c.line);
    setAttr(li, "data-search", [c.name, c.jid, c.extension, c.email, ...c.groups].join(" ").toLowerCase());
    setText(li.querySelector(".icon"), line && c.line !== "idle" ? `${a.icon}${line.icon}` : a.icon);
    setText(li.querySelector(".name"), c.name);
    setText(li.querySelector(".label"), a.label);
    setText(li.querySelector(".line-label"), line ? line.label : "");
    setText(li.querySelector(".status"), status);
    const chipList = li.querySelector(".chips");
    if ([...chipList.children].map((x) => x.textContent).join("\n") !== chips.join("\n")) {
      chipList.replaceChildren(...chips.map((t) => el("li", "chip", t)));
    }
    setText(li.querySelector(".ext"), c.extension ? `Ext. ${c.extension}` : "");
    const call = li.querySelector(".call");
    if (c.extension) {
      const uri = /^\+?[0-9*#]+$/.test(c.extension) ? `tel:${c.extension}` : `sip:${c.extension}`;
      setAttr(call, "href", uri);
      setText(call, "Call");
      setAttr(call, "aria-label", `Call ${c.name}, extension ${c.extension}`);
      call.hidden = false;
    } else if (call.hasAttribute("href")) {
      call.removeAttribute("href");
      call.removeAttribute("aria-label");
      setText(call, "");
      call.hidden = true;
    }
    const parts = [c.name, a.label, line && line.label, status, ...chips, c.extension && `extension ${c.extension}`];
    setAttr(li, "aria-label", parts.filter(Boolean).join(", "));
  }

  setFilter(query, availableOnly) {
    this.query = query.trim().toLowerCase();
    this.availableOnly = availableOnly;
    this.applyFilter();
  }

  filterOne(li) {
    const words = this.query ? this.query.split(/\s+/) : [];
    const group = li.closest(".group")?.querySelector(".group-name")?.textContent.toLowerCase() || "";
    const text = `${li.dataset.search} ${group}`;
    const free = li.dataset.availability === "available" && !["ringing", "on_call"].includes(li.dataset.line);
    const hide = !words.every((w) => text.includes(w)) || (this.availableOnly && !free);
    if (li.hidden !== hide) li.hidden = hide;
  }

  applyFilter() {
    for (const li of this.lamps.values()) this.filterOne(li);
    let shown = 0;
    for (const g of this.groups.values()) {
      const visible = [...g.list.children].filter((li) => !li.hidden).length;
      g.section.hidden = visible === 0;
      shown += visible;
    }
    this.countEl.textContent = this.lamps.size
      ? `${shown} of ${this.lamps.size} colleagues shown`
      : "No colleagues yet: add contacts in any XMPP client.";
    const current = this.root.querySelector('.lamp[tabindex="0"]');
    if (!current || current.hidden) this.setTabStop(this.visible()[0]);
  }

  visible() {
    return [...this.root.querySelectorAll(".lamp")].filter((li) => !li.hidden && !li.closest(".group").hidden);
  }

  /** Roving tab stop: the field is one stop for Tab; arrows move inside it. */
  setTabStop(lamp) {
    for (const li of this.root.querySelectorAll('.lamp[tabindex="0"]')) li.tabIndex = -1;
    if (lamp) lamp.tabIndex = 0;
  }

  onKey(e) {
    const lamp = e.target.closest?.(".lamp");
    if (!lamp) return;
    const list = this.visible();
    const i = list.indexOf(lamp);
    const go = (j) => {
      const next = list[Math.max(0, Math.min(list.length - 1, j))];
      if (next) { this.setTabStop(next); next.focus(); }
      e.preventDefault();
    };
    switch (e.key) {
      case "ArrowDown":
      case "ArrowRight":
        return go(i + 1);
      case "ArrowUp":
      case "ArrowLeft":
        return go(i - 1);
      case "Home":
        return go(0);
      case "End":
        return go(list.length - 1);
      case "Enter": {
        const call = lamp.querySelector(".call[href]");
        if (call) call.click();
        return e.preventDefault();
      }
      default:
        // Typing on the field filters it: the keys go to the search box.
        // ("/" is left to the page, which moves to the search box without typing it.)
        if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey && e.key !== " " && e.key !== "/") {
          this.dispatchTyping(e.key);
          e.preventDefault();
        }
    }
  }

  dispatchTyping(key) {
    this.root.dispatchEvent(new CustomEvent("typeahead", { detail: key, bubbles: true }));
  }
}
