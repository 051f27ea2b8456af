// The checks panel on a desktop screen, the system scheme light.
import { checks } from './checks.mjs';

checks('desktop', { width: 1280, height: 860 }, 'light');
