// The live strip under the canvas: each model's digit and its ten bars, redrawn as the pen moves.
// Visual only (aria-hidden): the page's live region announces the server's answer when the pen lifts.

const STYLE = `
.live-strip{display:flex;gap:12px;align-items:flex-end;margin-top:6px;font-family:"Source Sans Pro",sans-serif;color:#111418;
  min-height:64px}

.live-model{display:flex;align-items:flex-end;gap:6px;flex:1}
.live-name{font-size:12px;line-height:1;writing-mode:vertical-rl;transform:rotate(180deg);color:#4b5160}
.live-digit{font-size:34px;font-weight:600;line-height:1;min-width:30px;text-align:center}
.live-unsure{font-size:18px;font-weight:400}
.live-bars{display:grid;grid-template-columns:repeat(10,1fr);gap:2px;align-items:end;flex:1;height:44px}
.live-bar{display:flex;flex-direction:column;justify-content:flex-end;height:100%}
.live-fill{background:#9aa0aa;min-height:1px;border-radius:1px 1px 0 0}
.live-bar[data-top="true"] .live-fill{background:#c8102e}
.live-label{font-size:9px;line-height:11px;text-align:center;color:#4b5160}
.live-note{font-size:11px;color:#4b5160;margin-top:2px}
`;

/** The strip's element and a function that shows one reading (null: nothing drawn). Below `notSureBelow`
 * a digit is shown with a question mark, as the server's answer says "not sure". */
export function createStrip(container, names, notSureBelow = 0.8) {
  const root = document.createElement("div");
  root.className = "live-root";
  root.setAttribute("aria-hidden", "true");
  root.innerHTML = `<style>${STYLE}</style><div class="live-strip" data-state="empty"></div>`
    + `<div class="live-note">Live: read in your browser as you draw</div>`;
  const strip = root.querySelector(".live-strip");
  const parts = Object.fromEntries(names.map((name) => [name, modelBlock(strip, name)]));
  container.appendChild(root);
  const show = (probabilities, state) => {
    strip.dataset.state = state;
    for (const [name, part] of Object.entries(parts)) {
      const values = probabilities?.[name];
      const top = values ? values.indexOf(Math.max(...values)) : -1;
      part.digit.textContent = top < 0 ? "–" : String(top);
      if (top >= 0 && values[top] < notSureBelow) part.digit.insertAdjacentHTML("beforeend", '<span class="live-unsure">?</span>');
      strip.dataset[name] = top < 0 ? "" : String(top);
      part.bars.forEach((bar, i) => {
        bar.dataset.top = String(i === top);
        bar.firstChild.style.height = `${values ? Math.round(values[i] * 100) : 0}%`;
      });
    }
  };
  show(null, "empty");
  return { root, strip, show };
}

function modelBlock(strip, name) {
  const block = document.createElement("div");
  block.className = "live-model";
  block.innerHTML = `<span class="live-name">${name.toUpperCase()}</span><span class="live-digit">–</span><div class="live-bars"></div>`;
  const barsBox = block.querySelector(".live-bars");
  const bars = Array.from({ length: 10 }, (_, digit) => {
    const bar = document.createElement("div");
    bar.className = "live-bar";
    bar.innerHTML = `<div class="live-fill"></div><div class="live-label">${digit}</div>`;
    barsBox.appendChild(bar);
    return bar;
  });
  strip.appendChild(block);
  return { digit: block.querySelector(".live-digit"), bars };
}
