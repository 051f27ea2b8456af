// The second-edition tools on a phone, the system scheme dark.
import { tools } from './tools.mjs';

tools('phone', { width: 390, height: 844 }, 'dark');
