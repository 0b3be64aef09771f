import { adminCommands } from '../../core/cli/commands/admin/index.js';
import { auditCommand } from '../../core/cli/commands/audit.js';
import { explainCommand } from '../../core/cli/commands/explain.js';
import { definePlugin } from '../../core/plugin/types.js';

/** The admin commands (`caracal zones|apps|resources|providers|policies|policy-sets|revoke|revocations|keys|audit|explain`) as a built-in plugin. */
export const adminCliPlugin = definePlugin({
  name: 'admin-cli',
  caracal: '^1',
  commands: [...adminCommands, auditCommand, explainCommand],
});
