import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { Explanation } from '../../core/audit/explain.js';
import type { KeyBinding } from '../keymap.js';
import { explainScreen } from '../models/explain.js';
import { esc } from '../tags.js';
import type { AppContext, PaletteCommand, View, ViewFactory } from '../view.js';

/** Explain: what happened to one request and what to fix (the content of `caracal explain`). */
export const explainView: ViewFactory = {
  id: 'explain',
  title: 'Explain',
  summary: 'explain one request by its request ID',
  listed: false,
  create(ctx: AppContext, params): View {
    const requestId = params.requestId ?? '';
    let box: Widgets.BoxElement | undefined;
    let explanation: Explanation | undefined;
    let json = false;

    const draw = () => {
      if (box === undefined) return;
      if (explanation === undefined) return;
      box.setContent(json ? esc(JSON.stringify(explanation, null, 2)) : explainScreen(explanation, Number(box.width)));
      ctx.render();
    };
    const load = () => {
      void ctx
        .task(`explaining ${requestId}`, () => ctx.client.request<Explanation>('GET', `/v1/requests/${encodeURIComponent(requestId)}/explain`))
        .then((result) => {
          if (result === undefined) {
            box?.setContent(`{gray-fg}no explanation for ${esc(requestId)} (see the status line){/gray-fg}`);
            ctx.render();
            return;
          }
          explanation = result;
          draw();
        });
    };
    const scroll = (keys: string[], label: string, by: number | 'top' | 'bottom'): KeyBinding => ({
      keys,
      label,
      help: `Scroll ${label}.`,
      hint: false,
      run: () => {
        if (box === undefined) return;
        if (by === 'top') box.setScrollPerc(0);
        else if (by === 'bottom') box.setScrollPerc(100);
        else box.scroll(by);
        ctx.render();
      },
    });

    return {
      title: () => `Explain ${requestId}`,
      keys: () => [
        { keys: ['o'], label: json ? 'text' : 'json', help: 'Switch between the explanation and its JSON (the `caracal explain --json` contract).', run: () => {
          json = !json;
          ctx.rebind();
          draw();
        } },
        scroll(['up'], 'up', -1),
        scroll(['down'], 'down', 1),
        scroll(['pageup'], 'page up', -10),
        scroll(['pagedown'], 'page down', 10),
        scroll(['home'], 'to the top', 'top'),
        scroll(['end'], 'to the bottom', 'bottom'),
      ],
      mount(body) {
        box = blessed.box({ parent: body, top: 0, left: 1, right: 1, bottom: 0, tags: true, scrollable: true, alwaysScroll: true, content: '{gray-fg}loading…{/gray-fg}' });
        load();
      },
      unmount() {
        box = undefined;
      },
      refresh: load,
      resize: draw,
      zoneChanged: () => undefined,
    };
  },
};

/** `explain <request-id>` in the palette (a bare pasted `req_…` means the same). */
export const explainCommand: PaletteCommand = {
  name: 'explain',
  usage: 'explain <request-id>',
  summary: 'explain a request by its ID (paste it from an error body or X-Request-Id)',
  arg: 'required',
  run: (ctx, arg) => ctx.push('explain', { requestId: (arg ?? '').trim() }),
};
