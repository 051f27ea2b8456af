// The checks panel on a phone, the system scheme dark.
import { checks } from './checks.mjs';

checks('phone', { width: 390, height: 844 }, 'dark');
