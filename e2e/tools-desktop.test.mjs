// The second-edition tools on a desktop screen, the system scheme light.
import { tools } from './tools.mjs';

tools('desktop', { width: 1280, height: 860 }, 'light');
