package synth

import "strings"

// lexicon is what the text generators know of a language: everyday words
// (weather, markets, rivers, mornings, trains) and a few channel taglines.
type lexicon struct {
	script   string
	comma    string
	words    []string
	taglines []string
}

var lexicons = map[string]*lexicon{
	"en": {
		script: Latin, comma: ",",
		words: strings.Fields(`weather market river morning bulletin garden bread train
			bridge harbour rain sunny evening tea village road bakery library orchard
			meadow cloud wind report schedule station city day today tomorrow sea
			hill house street school book night week green warm cold calm fresh quiet
			opens closes arrives remains continues brings follows the a and in with
			near along for after before`),
		taglines: []string{"Morning Bulletin", "Weather Today", "Market News", "Evening Digest", "River Report"},
	},
	"fr": {
		script: Latin, comma: ",",
		words: strings.Fields(`météo marché rivière matin bulletin jardin pain train pont
			pluie ensoleillé soir thé village route boulangerie bibliothèque nuage vent
			rapport gare ville jour demain mer colline maison rue école livre nuit
			semaine vert chaud froid calme frais tranquille ouvre ferme arrive reste
			continue le la les un une et dans avec près pour après avant`),
		taglines: []string{"Bulletin du matin", "Météo du jour", "Nouvelles du marché", "Résumé du soir"},
	},
	"de": {
		script: Latin, comma: ",",
		words: strings.Fields(`Wetter Markt Fluss Morgen Bulletin Garten Brot Zug Brücke
			Regen sonnig Abend Tee Dorf Straße Bäckerei Bibliothek Wolke Wind Bericht
			Bahnhof Stadt Tag heute morgen Meer Hügel Haus Schule Buch Nacht Woche
			grün warm kalt ruhig frisch still öffnet schließt kommt bleibt der die
			das ein eine und im mit am für nach vor`),
		taglines: []string{"Morgenbulletin", "Wetter heute", "Marktnachrichten", "Abendausgabe"},
	},
	"es": {
		script: Latin, comma: ",",
		words: strings.Fields(`tiempo mercado río mañana boletín jardín pan tren puente
			lluvia soleado tarde té pueblo camino panadería biblioteca nube viento
			informe estación ciudad día hoy mar colina casa calle escuela libro noche
			semana verde cálido frío tranquilo fresco abre cierra llega sigue el la
			los las un una y en con cerca para después antes`),
		taglines: []string{"Boletín de la mañana", "El tiempo hoy", "Noticias del mercado", "Resumen de la tarde"},
	},
	"tr": {
		script: Latin, comma: ",",
		words: strings.Fields(`hava pazar nehir sabah bülten bahçe ekmek tren köprü
			yağmur güneşli akşam çay köy yol fırın kütüphane bulut rüzgar rapor
			istasyon şehir gün bugün yarın deniz tepe ev sokak okul kitap gece hafta
			yeşil sıcak soğuk sakin taze sessiz açılıyor kapanıyor geliyor kalıyor
			ve ile için sonra önce yakın`),
		taglines: []string{"Sabah Bülteni", "Bugün Hava", "Pazar Haberleri", "Akşam Özeti"},
	},
	"ru": {
		script: Cyrillic, comma: ",",
		words: strings.Fields(`погода рынок река утро бюллетень сад хлеб поезд мост
			дождь солнечно вечер чай деревня дорога пекарня библиотека облако ветер
			отчёт станция город день сегодня завтра море холм дом улица школа книга
			ночь неделя зелёный тёплый холодный тихий свежий спокойный открывается
			закрывается приходит остаётся и в с на для после до у`),
		taglines: []string{"Утренний бюллетень", "Погода сегодня", "Новости рынка", "Вечерний выпуск"},
	},
	"ar": {
		script: Arabic, comma: "،",
		words: strings.Fields(`طقس سوق نهر صباح نشرة حديقة خبز قطار جسر مطر مشمس مساء
			شاي قرية طريق مخبز مكتبة سحابة رياح تقرير محطة مدينة يوم اليوم غدا بحر
			تلة بيت شارع مدرسة كتاب ليل أسبوع أخضر دافئ بارد هادئ طازج جميل يفتح
			يغلق يصل يبقى في مع من على قرب بعد قبل`),
		taglines: []string{"نشرة الصباح", "طقس اليوم", "أخبار السوق", "نشرة المساء"},
	},
	"fa": {
		script: Arabic, comma: "،",
		words: strings.Fields(`هوا بازار رودخانه صبح خبرنامه باغ نان قطار پل باران
			آفتابی عصر چای روستا جاده نانوایی کتابخانه ابر باد گزارش ایستگاه شهر روز
			امروز فردا دریا تپه خانه خیابان مدرسه کتاب شب هفته سبز گرم سرد آرام
			تازه زیبا است و در با برای از کنار بعد قبل`),
		taglines: []string{"خبرنامه صبح", "هوای امروز", "اخبار بازار", "خبرنامه عصر"},
	},
	"ps": {
		script: Arabic, comma: "،",
		words: strings.Fields(`هوا بازار سیند سهار خبرونه باغ ډوډۍ پل باران لمر
			ماښام چای کلی سړک کتابتون وریځ باد ښار ورځ نن سبا غر کور کوڅه ښوونځی
			کتاب شپه اونۍ شین تود سوړ ارام تازه ښکلی مېوه دی او په سره لپاره له
			د وروسته مخکې`),
		taglines: []string{"د سهار خبرونه", "د نن ورځې هوا", "د بازار خبرونه"},
	},
}
