// The history, upcoming and audit panels on a desktop screen, the system scheme light.
import { panels } from './panels.mjs';

panels('desktop', { width: 1280, height: 860 }, 'light');
