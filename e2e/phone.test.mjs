// The dashboard journey on a phone (390 px wide).
import { journey } from './flow.mjs';

journey('phone', { width: 390, height: 844 });
