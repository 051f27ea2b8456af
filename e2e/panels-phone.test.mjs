// The history, upcoming and audit panels on a phone, the system scheme dark.
import { panels } from './panels.mjs';

panels('phone', { width: 390, height: 844 }, 'dark');
