// The widget's settings, read from the page's query string: embed.js passes
// its data- attributes there, and the full page takes them as they are
// (docs/widget.md lists them). Each is checked; a bad value is ignored,
// never an error for the customer.

const hexColor = /^#(?:[0-9a-fA-F]{3}){1,2}$/;
const fieldName = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const fieldTypes = new Set(["text", "email", "tel", "number"]);
// The fields of the standard pre-chat form, which extra fields may not
// take over, and the userData keys parley uses itself.
const reserved = new Set(["nickname", "firstName", "lastName", "emailAddress", "subject", "userData", "ChatRating"]);
const maxFields = 8;

// read returns the settings of the query string q.
export function read(q) {
  const text = (name, max) => (q.get(name) || "").trim().slice(0, max);
  return {
    service: /^[A-Za-z0-9._-]{1,64}$/.test(q.get("service") || "") ? q.get("service") : "customer-support",
    title: text("title", 60) || "Chat with us",
    color: hexColor.test(q.get("color") || "") ? q.get("color") : "",
    textColor: hexColor.test(q.get("textColor") || "") ? q.get("textColor") : "",
    fields: fields(q.get("fields")),
    rating: q.get("rating") === "on",
    sound: q.get("sound") !== "off",
    embed: q.get("embed") === "1",
    host: origin(q.get("host")),
  };
}

// fields reads the extra pre-chat fields, a JSON array of {name, label,
// type, required, maxlength}; their values go to the chat's userData under
// their names.
function fields(json) {
  let list;
  try {
    list = JSON.parse(json || "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out = [];
  for (const f of list.slice(0, maxFields)) {
    if (!f || typeof f !== "object" || !fieldName.test(f.name) || reserved.has(f.name) || out.some((o) => o.name === f.name)) continue;
    out.push({
      name: f.name,
      label: String(f.label || f.name).slice(0, 80),
      type: fieldTypes.has(f.type) ? f.type : "text",
      required: f.required === true,
      maxlength: Math.min(Math.max(Number(f.maxlength) || 128, 1), 1024),
    });
  }
  return out;
}

// origin returns the origin o names, or "" (embed.js passes its page's).
function origin(o) {
  try {
    const u = new URL(o || "");
    return (u.protocol === "https:" || u.protocol === "http:") && u.origin === o ? o : "";
  } catch {
    return "";
  }
}

// luminance is the relative luminance of a #rgb or #rrggbb colour (WCAG).
function luminance(hex) {
  const h = hex.length === 4 ? hex.slice(1).split("").map((c) => c + c).join("") : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const white = "#ffffff";
const ink = "#1b1b1f";

// apply sets the title and colours. A text colour that would not be
// readable on the accent (WCAG AA, 4.5:1) gives way to white or ink, and
// an accent too light for text on white is not used as a text colour.
export function apply(st, doc) {
  doc.title = st.title;
  doc.getElementById("title").textContent = st.title;
  const root = doc.documentElement.style;
  if (!st.color) return;
  const fg = st.textColor && contrast(st.color, st.textColor) >= 4.5 ? st.textColor
    : contrast(st.color, white) >= 4.5 ? white : ink;
  root.setProperty("--accent", st.color);
  root.setProperty("--accent-fg", fg);
  root.setProperty("--accent-text", contrast(st.color, white) >= 4.5 ? st.color : ink);
}

// addFields puts the extra pre-chat fields into the form, before before.
export function addFields(st, form, before) {
  for (const f of st.fields) {
    const id = `field-${f.name}`;
    const label = form.ownerDocument.createElement("label");
    label.htmlFor = id;
    label.textContent = f.required ? f.label : `${f.label} (optional)`;
    const input = form.ownerDocument.createElement("input");
    Object.assign(input, { id, name: `userData.${f.name}`, type: f.type, maxLength: f.maxlength, required: f.required });
    input.dataset.userData = f.name;
    form.insertBefore(label, before);
    form.insertBefore(input, before);
  }
}

// userData returns the extra fields' values by name, and the first
// required one left empty.
export function userData(st, form) {
  const data = {};
  let missing = null;
  for (const f of st.fields) {
    const input = form.elements[`userData.${f.name}`];
    const v = input.value.trim();
    if (v) data[f.name] = v;
    else if (f.required && !missing) missing = input;
  }
  return { data, missing };
}
