// The dashboard journey on a desktop screen.
import { journey } from './flow.mjs';

journey('desktop', { width: 1280, height: 860 });
