/** Preset names, as `VANA_PRESET` / `--preset` accept them (the presets themselves: presets.ts). */
export const PRESET_NAMES = ['burst', 'conservative', 'debug', 'moksha'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
