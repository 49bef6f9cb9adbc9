using System.IO.Compression;

namespace Tunebook.Kernel;

/// <summary>The kernel's logo for Jupyter launchers: a violet rounded tile with a white "C#" drawn as strokes.</summary>
static class Logo
{
    public const string Svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
          <rect x="2" y="2" width="60" height="60" rx="12" fill="#6a3fb5"/>
          <path d="M30 22a12 12 0 1 0 0 20" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round"/>
          <path d="M40 26v12M47 26v12M36 29h15M36 35h15" stroke="#fff" stroke-width="3" stroke-linecap="round"/>
        </svg>
        """;

    /// <summary>The same tile as a PNG (Jupyter Notebook's launcher uses the 64x64 one).</summary>
    public static byte[] Png(int size)
    {
        var rgba = new byte[size * size * 4];
        double s = size / 64.0;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double px = (x + 0.5) / s, py = (y + 0.5) / s;
                bool tile = RoundedRect(px, py, 2, 2, 62, 62, 12);
                double r = Math.Sqrt((px - 30) * (px - 30) + (py - 32) * (py - 32));
                bool c = Math.Abs(r - 10) < 2.5 && px < 34; // the C: a ring open to the right
                bool hash = (Math.Abs(px - 40) < 1.5 || Math.Abs(px - 47) < 1.5) && py is > 25 and < 39
                            || (Math.Abs(py - 29) < 1.5 || Math.Abs(py - 35) < 1.5) && px is > 35 and < 52;
                int i = (y * size + x) * 4;
                if (!tile) continue; // transparent
                (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]) = c || hash ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0x6a, (byte)0x3f, (byte)0xb5, (byte)255);
            }
        return EncodePng(size, size, rgba);
    }

    static bool RoundedRect(double x, double y, double x0, double y0, double x1, double y1, double radius)
    {
        if (x < x0 || x > x1 || y < y0 || y > y1) return false;
        double cx = Math.Clamp(x, x0 + radius, x1 - radius), cy = Math.Clamp(y, y0 + radius, y1 - radius);
        return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius;
    }

    static byte[] EncodePng(int width, int height, byte[] rgba)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++) { raw.WriteByte(0); raw.Write(rgba, y * width * 4, width * 4); }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());

        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        WriteBigEndian(header, 0, width); WriteBigEndian(header, 4, height);
        header[8] = 8; header[9] = 6; // 8-bit RGBA
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4]; WriteBigEndian(length, 0, data.Length);
        png.Write(length);
        var body = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(body, 0);
        data.CopyTo(body, 4);
        png.Write(body);
        var crc = new byte[4]; WriteBigEndian(crc, 0, (int)Crc32(body));
        png.Write(crc);
    }

    static void WriteBigEndian(byte[] b, int o, int v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }

    static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
